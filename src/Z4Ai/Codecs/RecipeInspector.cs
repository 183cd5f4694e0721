using System.Text;
using Z4Ai.Entropy;
using Z4Ai.Internal;
using Z4Ai.Planes;
using Z4Ai.Transforms;

namespace Z4Ai.Codecs;

/// <summary>One leaf stream of a frame: where it sits in the recipe, how it is coded, and its sizes.</summary>
/// <param name="Path">Slash-separated position in the recipe, such as <c>fields/exponent</c>.</param>
/// <param name="Coder">The leaf coder: <c>stored</c>, <c>zstd</c>, <c>rans-o0</c>, <c>rans-o1</c>, <c>cm</c>, or an older codec id's name.</param>
/// <param name="RawBytes">The bytes the leaf decodes to.</param>
/// <param name="EncodedBytes">The bytes the leaf occupies in the frame (its node, without the length prefix).</param>
internal readonly record struct StreamBreakdown(string Path, string Coder, long RawBytes, long EncodedBytes);

/// <summary>
/// Reads a frame's recipe without decoding its leaves: a one-line description (for reports) and the list of leaf
/// streams with their sizes (for <c>Inspect</c>). Malformed frames raise <see cref="Z4AiFormatException"/>.
/// </summary>
internal static class RecipeInspector
{
    /// <summary>A compact description such as <c>fields(BF16)[exponent:rans-o0 sign+mantissa:stored]</c>.</summary>
    public static string Describe(ReadOnlySpan<byte> frame) => Inspect(frame, null);

    /// <summary>Describes the frame and appends its leaf streams to <paramref name="streams"/> when given.</summary>
    public static string Inspect(ReadOnlySpan<byte> frame, List<StreamBreakdown>? streams)
    {
        (CodecId codec, int rawLength, int headerLength) = TensorCodec.ReadHeader(frame);
        ReadOnlySpan<byte> payload = frame[headerLength..];
        if (codec == CodecId.Recipe)
        {
            var text = new StringBuilder();
            Walk(payload, rawLength, "data", 0, text, streams);
            return text.ToString();
        }

        string name = CodecNames.Get((byte)codec);
        streams?.Add(new StreamBreakdown("data", name, rawLength, payload.Length));
        return name;
    }

    private static void Walk(ReadOnlySpan<byte> node, int rawLength, string path, int depth, StringBuilder text, List<StreamBreakdown>? streams)
    {
        if (depth > RecipeDecoder.MaxDepth)
        {
            ThrowHelper.CorruptFrame($"recipe nests deeper than {RecipeDecoder.MaxDepth} levels");
        }

        int nodeLength = node.Length;
        var reader = new SpanReader(node);
        var kind = (RecipeKind)reader.ReadByte();
        switch (kind)
        {
            case RecipeKind.Stored:
                Leaf("stored");
                break;
            case RecipeKind.Zstd:
                Leaf("zstd");
                break;
            case RecipeKind.ArchiveModel:
                Leaf("archive-cm");
                break;
            case RecipeKind.Entropy:
                (EntropyMethod method, _, _) = RecipeDecoder.ReadEntropyParameters(ref reader, rawLength);
                Leaf(method switch
                {
                    EntropyMethod.RansOrder0 => "rans-o0",
                    EntropyMethod.RansOrder1 => "rans-o1",
                    EntropyMethod.RansRowClasses => "rans-rows",
                    EntropyMethod.RansOrder0Wide => "rans-o0x64",
                    EntropyMethod.RansRowClassesWide => "rans-rowsx64",
                    _ => "cm",
                });
                break;
            case RecipeKind.Fields:
            case RecipeKind.ClassedFields:
            {
                bool classed = kind == RecipeKind.ClassedFields;
                DType dtype = RecipeDecoder.ReadDType(ref reader, FloatFields.IsSupported, classed ? "classed fields" : "fields");
                int count = rawLength / dtype.ElementSize();
                ExponentClasses? classes = classed ? ExponentClasses.Read(ref reader, dtype) : null;
                int[]? lengths = classes?.ReadLengths(ref reader, count);
                text.Append("fields(").Append(dtype.GetName());
                if (classes is not null)
                {
                    text.Append(", ").Append(classes.Count).Append(" exponent classes");
                }

                text.Append(")[");
                string[] planes = dtype switch
                {
                    DType.BF16 => ["sign+mantissa"],
                    DType.F16 => ["mantissa-low", "sign+mantissa-high"],
                    _ => ["mantissa-low", "mantissa-mid", "sign+mantissa-high"],
                };

                Child(ref reader, count, "exponent");
                for (int k = 0; k < planes.Length - (classed ? 1 : 0); k++)
                {
                    text.Append(' ');
                    Child(ref reader, count, planes[k]);
                }

                // Each class's part of the top plane is reported under the plane's name, so the streams add up.
                for (int j = 0; lengths is not null && j < lengths.Length; j++)
                {
                    if (lengths[j] > 0)
                    {
                        text.Append(' ');
                        Child(ref reader, lengths[j], planes[^1]);
                    }
                }

                text.Append(']');
                break;
            }

            case RecipeKind.Planes:
            {
                int size = reader.ReadByte();
                if (size is < 2 or > 8)
                {
                    ThrowHelper.CorruptFrame($"planes node has element size {size}, expected 2 to 8");
                }

                int count = rawLength / size;
                text.Append("planes(").Append(size).Append(")[");
                for (int k = 0; k < size; k++)
                {
                    text.Append(k == 0 ? string.Empty : " ");
                    Child(ref reader, count, $"byte{k}");
                }

                text.Append(']');
                break;
            }

            case RecipeKind.DeadBits:
            {
                DType dtype = RecipeDecoder.ReadDType(ref reader, d => DeadBits.LaneBytesOf(d) != 0, "dead-bits");
                DeadBitsPlan plan = DeadBitsPlan.Read(ref reader, dtype, rawLength);
                text.Append("deadbits(").Append(dtype.GetName()).Append("->")
                    .Append(plan.NarrowDType is DType narrow ? narrow.GetName() : $"{plan.NarrowBits} bits").Append(")[");
                Child(ref reader, plan.NarrowLength, "narrow");
                text.Append(']');
                break;
            }

            case RecipeKind.Palette:
            {
                DType dtype = RecipeDecoder.ReadDType(ref reader, d => d.ElementSize() != 0, "palette");
                PaletteParameters p = PaletteParameters.Read(ref reader, dtype, rawLength);
                text.Append("palette(").Append(p.Layout switch
                {
                    PaletteLayout.Global => "global",
                    PaletteLayout.GroupedWide => $"groups of {p.GroupLength}, f32 scales",
                    _ => $"groups of {p.GroupLength}",
                })
                    .Append(", ").Append(p.CodebookEntries).Append(" entries, ").Append(p.IndexBits).Append("-bit)[");
                Child(ref reader, p.GroupTableLength, "groups");
                text.Append(p.GroupTableLength > 0 ? " " : string.Empty);
                Child(ref reader, p.CodebookLength, "codebook");
                text.Append(' ');
                Child(ref reader, p.IndicesLength, "indices");
                text.Append(']');
                break;
            }

            case RecipeKind.ZeroMask:
            {
                DType dtype = RecipeDecoder.ReadDType(ref reader, d => d.ElementSize() != 0, "zero-mask");
                ZeroMaskPlan plan = ZeroMaskPlan.Read(ref reader, dtype, rawLength);
                text.Append("zeromask(").Append(plan.Layout == ZeroMaskLayout.Bitmap ? "bitmap" : "gaps").Append(", ")
                    .Append(plan.NonZeroCount).Append(" non-zero)[");
                Child(ref reader, plan.PositionsLength, "positions");
                text.Append(' ');
                Child(ref reader, plan.ValuesLength, "values");
                text.Append(']');
                break;
            }

            case RecipeKind.IntPack:
            {
                DType dtype = RecipeDecoder.ReadDType(ref reader, IntPack.IsApplicable, "integer-pack");
                IntPackPlan plan = IntPackPlan.Read(ref reader, dtype, rawLength);
                text.Append("intpack(").Append(plan.Mode == IntPackMode.Delta ? "delta" : "for").Append(", ")
                    .Append(plan.Bits).Append(" bits)[");
                Child(ref reader, plan.PackedLength, "packed");
                text.Append(']');
                break;
            }

            case RecipeKind.BoolPack:
            {
                DType dtype = RecipeDecoder.ReadDType(ref reader, BoolPack.IsApplicable, "bool-pack");
                BoolPackPlan plan = BoolPackPlan.Read(ref reader, dtype, rawLength);
                text.Append("boolpack[");
                Child(ref reader, plan.PackedLength, "packed");
                text.Append(']');
                break;
            }

            case RecipeKind.NegativeZero:
            {
                DType dtype = RecipeDecoder.ReadDType(ref reader, RecipeDecoder.HasSignedZero, "negative-zero");
                int count = rawLength / dtype.ElementSize();
                int zeros = reader.ReadVarInt32(count);
                text.Append("negzero(").Append(zeros).Append(" zeros)[");
                Child(ref reader, (zeros + 7) / 8, "signs");
                text.Append(zeros > 0 ? " " : string.Empty);
                Child(ref reader, rawLength, "values");
                text.Append(']');
                break;
            }

            case RecipeKind.GroupShift:
            {
                int groupLength = reader.ReadVarInt32(Math.Max(1, rawLength));
                if (groupLength == 0)
                {
                    ThrowHelper.CorruptFrame("group-shift node has a group length of zero");
                }

                text.Append("shift(").Append(groupLength).Append(")[");
                Child(ref reader, (int)(((long)rawLength + groupLength - 1) / groupLength), "offsets");
                text.Append(' ');
                Child(ref reader, rawLength, "shifted");
                text.Append(']');
                break;
            }

            case RecipeKind.Delta:
            {
                int size = reader.ReadByte();
                text.Append("delta(").Append(size).Append(")[");
                Child(ref reader, rawLength, "deltas");
                text.Append(']');
                break;
            }

            default:
                ThrowHelper.CorruptFrame($"unknown recipe node kind {(byte)kind}", 0);
                break;
        }

        if (reader.Remaining != 0 && kind is not (RecipeKind.Stored or RecipeKind.Zstd or RecipeKind.Entropy or RecipeKind.ArchiveModel))
        {
            // Planes end with the raw tail of a partial element; everything else must end exactly.
            if (kind != RecipeKind.Planes)
            {
                ThrowHelper.CorruptFrame($"recipe node has {reader.Remaining} trailing bytes", reader.Position);
            }
        }

        void Leaf(string coder)
        {
            text.Append(coder);
            streams?.Add(new StreamBreakdown(path, coder, rawLength, nodeLength));
        }

        void Child(ref SpanReader r, int length, string name)
        {
            ReadOnlySpan<byte> child = RecipeDecoder.ReadChild(ref r, length);
            if (length == 0)
            {
                return;
            }

            text.Append(name).Append(':');
            Walk(child, length, path + "/" + name, depth + 1, text, streams);
        }
    }
}
