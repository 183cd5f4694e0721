using System.Buffers.Binary;
using NUnit.Framework;
using Z4Ai.Format;

namespace Z4Ai.Tests.Delta;

/// <summary>Restores a (possibly damaged) model-delta file against a base in a scratch folder, for the hostile and
/// packed-index tests: the one place that says what a rejected delta may throw and what it may leave behind.</summary>
internal sealed class ModelDeltaRestoreKit(string directory, string basePath, byte[] target)
{
    /// <summary>The index offset and length a model-delta file's footer records.</summary>
    public static (long Offset, int Length) IndexBounds(byte[] file)
    {
        ReadOnlySpan<byte> footer = file.AsSpan(file.Length - ModelDeltaFormat.FooterLength);
        return ((long)BinaryPrimitives.ReadUInt64LittleEndian(footer[8..]), (int)BinaryPrimitives.ReadUInt64LittleEndian(footer[16..]));
    }

    public string Write(byte[] delta)
    {
        string path = Path.Combine(directory, "delta.z4delta");
        File.WriteAllBytes(path, delta);
        return path;
    }

    public byte[] Restore(byte[] delta)
    {
        string output = Path.Combine(directory, "out.safetensors");
        DeltaCodec.DecompressFile(Write(delta), basePath, output);
        byte[] restored = File.ReadAllBytes(output);
        File.Delete(output);
        return restored;
    }

    /// <summary>Either the delta restores the target exactly (only allowed when <paramref name="mustReject"/> is
    /// false), or it is rejected with a format or integrity error and no output file is left.</summary>
    public void AssertRejectedOrExact(byte[] delta, string what, bool mustReject)
    {
        string output = Path.Combine(directory, "out.safetensors");
        string path = Write(delta);
        try
        {
            DeltaCodec.DecompressFile(path, basePath, output);
            Assert.That(mustReject, Is.False, $"{what}: a damaged delta was accepted");
            Assert.That(File.ReadAllBytes(output), Is.EqualTo(target), $"{what}: a damaged delta restored wrong bytes");
            File.Delete(output);
        }
        catch (Exception ex) when (ex is Z4AiFormatException or Z4AiIntegrityException)
        {
            Assert.That(File.Exists(output), Is.False, $"{what}: a failed restore left output");
        }
    }
}
