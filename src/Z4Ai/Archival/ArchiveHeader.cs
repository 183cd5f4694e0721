using System.Buffers;
using Z4Ai.Integrity;
using Z4Ai.Internal;

namespace Z4Ai.Archival;

/// <summary>
/// The fixed part of an archive frame: magic, format version, the model its model blocks need (or none), the
/// primer that model was trained on first (or none) and the block size (docs/archive-format.md).
/// </summary>
internal sealed class ArchiveHeader
{
    /// <summary>The longest header: magic, version, model (3 + 32 settings bytes), primer (2 + 32), block size.</summary>
    public const int MaxLength = 4 + 1 + 3 + ModelDescriptor.MaxSettingsLength + 2 + ArchiveConstants.DigestLength + 5;

    public ArchiveHeader(ModelDescriptor? model, Primer? primer, int blockSize)
    {
        if (primer is not null && model is null)
        {
            throw new ArgumentException("a primer needs a model", nameof(primer));
        }

        Model = model;
        Primer = primer;
        BlockSize = blockSize;
    }

    /// <summary>The model that coded the model blocks, or null when there are none.</summary>
    public ModelDescriptor? Model { get; }

    /// <summary>The primer the model was trained on before each block, or null.</summary>
    public Primer? Primer { get; }

    /// <summary>The raw length of every block but the last (which may be shorter).</summary>
    public int BlockSize { get; }

    /// <summary>Writes the header.</summary>
    public void Write(IBufferWriter<byte> output)
    {
        Span<byte> span = output.GetSpan(MaxLength);
        int n = 0;
        ArchiveConstants.Magic.CopyTo(span);
        n += 4;
        span[n++] = ArchiveConstants.FormatVersion;
        if (Model is null)
        {
            span[n++] = 0;
        }
        else
        {
            span[n++] = Model.Id;
            span[n++] = Model.Version;
            span[n++] = (byte)Model.Settings.Length;
            Model.Settings.CopyTo(span[n..]);
            n += Model.Settings.Length;
        }

        if (Primer is null)
        {
            span[n++] = 0;
        }
        else
        {
            span[n++] = Primer.Id;
            span[n++] = Primer.Version;
            Primer.Digest.Bytes.CopyTo(span[n..]);
            n += ArchiveConstants.DigestLength;
        }

        n += VarInt.Write(span[n..], (ulong)BlockSize);
        output.Advance(n);
    }

    /// <summary>
    /// Reads and validates a header: the magic and version, a model this library has, a primer it ships with the
    /// recorded SHA-256, and a block size within limits.
    /// </summary>
    public static ArchiveHeader Read(ref SpanReader reader)
    {
        ReadOnlySpan<byte> magic = reader.ReadBytes(4);
        if (!magic.SequenceEqual(ArchiveConstants.Magic))
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"not a Z4Ai archive: the magic is {Convert.ToHexString(magic)}, expected 5A344152 (\"Z4AR\")", offset: 0);
        }

        byte version = reader.ReadByte();
        if (version != ArchiveConstants.FormatVersion)
        {
            ThrowHelper.Format(Z4AiErrorKind.UnsupportedVersion, $"archive format version {version} is not supported (this library reads version {ArchiveConstants.FormatVersion})", offset: 4);
        }

        ModelDescriptor? model = null;
        byte modelId = reader.ReadByte();
        if (modelId != 0)
        {
            byte modelVersion = reader.ReadByte();
            int settingsLength = reader.ReadByte();
            if (settingsLength > ModelDescriptor.MaxSettingsLength)
            {
                ThrowHelper.CorruptFrame($"model settings are {settingsLength} bytes, at most {ModelDescriptor.MaxSettingsLength} are allowed", reader.Position - 1);
            }

            model = new ModelDescriptor(modelId, modelVersion, reader.ReadBytes(settingsLength).ToArray());
            SymbolModels.Validate(model);
        }

        Primer? primer = null;
        byte primerId = reader.ReadByte();
        if (primerId != 0)
        {
            int at = reader.Position - 1;
            byte primerVersion = reader.ReadByte();
            var recorded = new Sha256Digest(reader.ReadBytes(ArchiveConstants.DigestLength));
            if (model is null)
            {
                ThrowHelper.CorruptFrame("the archive names a primer but no model", at);
            }

            primer = Primer.Find(primerId, primerVersion);
            if (primer is null)
            {
                ThrowHelper.Format(Z4AiErrorKind.UnsupportedVersion, $"the archive was primed with primer id {primerId} version {primerVersion} ({Primer.NameOf(primerId, primerVersion)}), which this library does not ship (it ships {Primer.ShippedNames})", offset: at);
            }

            if (primer.Digest != recorded)
            {
                ThrowHelper.Format(
                    Z4AiErrorKind.ReferenceMismatch,
                    $"the archive was primed with a '{primer.FullName}' text whose SHA-256 is {recorded}, but this library ships '{primer.FullName}' with SHA-256 {primer.Digest}",
                    offset: at);
            }
        }

        int blockSizeAt = reader.Position;
        int blockSize = reader.ReadVarInt32();
        if (blockSize is < ArchiveConstants.MinBlockSize or > ArchiveConstants.MaxBlockSize)
        {
            ThrowHelper.Format(Z4AiErrorKind.LimitExceeded, $"block size {blockSize} is outside 1..{ArchiveConstants.MaxBlockSize}", offset: blockSizeAt);
        }

        if (model is not null && model.Id == ContextMixModel.ModelId)
        {
            ContextMixSettings.Read(model.Settings).CheckPlausible((primer?.Bytes.Length ?? 0) + (long)blockSize);
        }

        return new ArchiveHeader(model, primer, blockSize);
    }
}
