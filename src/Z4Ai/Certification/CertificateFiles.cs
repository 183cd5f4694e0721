using Z4Ai.Format;

namespace Z4Ai.Certification;

/// <summary>File helpers of the certification layer.</summary>
internal static class CertificateFiles
{
    public static void WriteAtomically(string path, ReadOnlySpan<byte> bytes)
    {
        using var file = AtomicFile.Create(path);
        file.Stream.Write(bytes);
        file.Commit();
    }

    /// <summary>
    /// Returns a plain safetensors path for <paramref name="path"/>: itself when it already is one, otherwise a
    /// restored temporary copy (returned in <paramref name="temporary"/> for the caller to delete).
    /// </summary>
    public static string AsSafeTensors(string path, string workDirectory, out string? temporary)
    {
        temporary = null;
        using (TensorFile file = TensorFile.Open(path))
        {
            if (file.Format == StorageFormat.SafeTensors)
            {
                return path;
            }
        }

        temporary = Path.Combine(workDirectory, $"{Path.GetFileNameWithoutExtension(path)}.{Guid.NewGuid():N}.safetensors");
        using ContainerReader reader = ContainerReader.Open(path);
        using var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write);
        reader.RestoreSafeTensors(output);
        return temporary;
    }
}
