using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;

namespace Z4Ai.Certification;

/// <summary>One split of Fashion-MNIST: 28×28 grey images (one byte per pixel) and their labels 0..9.</summary>
internal sealed class FashionMnistData
{
    public const int Pixels = 28 * 28;

    public const int Classes = 10;

    /// <summary>The environment variable that overrides where the idx files are.</summary>
    public const string DirectoryVariable = "Z4AI_FASHION_MNIST_DIR";

    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package installs the idx files.</summary>
    public const string DebianDirectory = "/usr/share/datasets/fashion-mnist";

    // Decompressed idx files are about 47 MB (train images); anything far larger is not Fashion-MNIST.
    private const long MaxFileBytes = 64L << 20;

    private FashionMnistData(byte[] images, byte[] labels, int count, string digest)
    {
        Images = images;
        Labels = labels;
        Count = count;
        Sha256 = digest;
    }

    public byte[] Images { get; }

    public byte[] Labels { get; }

    public int Count { get; }

    /// <summary>SHA-256 of the images' pixels (count × 784 bytes) followed by the labels (count bytes) used.</summary>
    public string Sha256 { get; }

    public ReadOnlySpan<byte> Image(int i) => Images.AsSpan(i * Pixels, Pixels);

    /// <summary>The directory to read: the explicit one, else the environment variable, else Debian's location.</summary>
    public static string ResolveDirectory(string? directory) =>
        directory ?? Environment.GetEnvironmentVariable(DirectoryVariable) ?? DebianDirectory;

    /// <summary>True when both files of the test split can be found.</summary>
    public static bool IsAvailable(string? directory)
    {
        string dir = ResolveDirectory(directory);
        return Find(dir, "t10k-images-idx3-ubyte") is not null && Find(dir, "t10k-labels-idx1-ubyte") is not null;
    }

    /// <summary>Loads the first <paramref name="limit"/> examples of a split (all when limit is 0 or more than the split).</summary>
    public static FashionMnistData Load(string? directory, bool train, int limit)
    {
        string dir = ResolveDirectory(directory);
        string prefix = train ? "train" : "t10k";
        byte[] imageFile = ReadIdx(dir, $"{prefix}-images-idx3-ubyte");
        byte[] labelFile = ReadIdx(dir, $"{prefix}-labels-idx1-ubyte");
        (int imageCount, int imageOffset) = ParseHeader(imageFile, 3, [28, 28], $"{prefix}-images");
        (int labelCount, int labelOffset) = ParseHeader(labelFile, 1, [], $"{prefix}-labels");
        if (imageCount != labelCount)
        {
            throw Failed($"the {prefix} split has {imageCount} images but {labelCount} labels");
        }

        int count = limit <= 0 ? imageCount : Math.Min(limit, imageCount);
        byte[] images = imageFile.AsSpan(imageOffset, count * Pixels).ToArray();
        byte[] labels = labelFile.AsSpan(labelOffset, count).ToArray();
        int bad = labels.AsSpan().IndexOfAnyInRange((byte)Classes, byte.MaxValue);
        if (bad >= 0)
        {
            throw Failed($"label {bad} of the {prefix} split is {labels[bad]}, not a class 0..9");
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(images);
        hash.AppendData(labels);
        return new FashionMnistData(images, labels, count, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    /// <summary>Parses an idx header: <c>00 00 08 rank</c>, then rank big-endian u32 dimensions.</summary>
    public static (int Count, int DataOffset) ParseHeader(ReadOnlySpan<byte> file, int rank, int[] innerDims, string what)
    {
        int headerLength = 4 + (4 * rank);
        if (file.Length < headerLength || file[0] != 0 || file[1] != 0 || file[2] != 0x08 || file[3] != rank)
        {
            throw Failed($"{what} is not an idx file of unsigned bytes with {rank} dimensions");
        }

        uint count = BinaryPrimitives.ReadUInt32BigEndian(file[4..]);
        long perItem = 1;
        for (int d = 1; d < rank; d++)
        {
            uint dim = BinaryPrimitives.ReadUInt32BigEndian(file[(4 + (4 * d))..]);
            if (dim != innerDims[d - 1])
            {
                throw Failed($"{what} has dimension {d} of {dim}, expected {innerDims[d - 1]}");
            }

            perItem *= dim;
        }

        if (count > int.MaxValue / perItem || headerLength + (count * perItem) != file.Length)
        {
            throw Failed($"{what} declares {count} items of {perItem} bytes but holds {file.Length - headerLength} bytes");
        }

        return ((int)count, headerLength);
    }

    private static byte[] ReadIdx(string directory, string name)
    {
        string? path = Find(directory, name) ?? throw Failed(
            $"the Fashion-MNIST file {name}(.gz) is not in {directory}; install Debian's dataset-fashion-mnist package "
            + $"(apt-get install dataset-fashion-mnist) or set {DirectoryVariable} to the folder of the idx files");
        try
        {
            using FileStream file = File.OpenRead(path);
            Stream source = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file;
            using (source)
            {
                using var buffer = new MemoryStream();
                byte[] chunk = new byte[1 << 16];
                int n;
                while ((n = source.Read(chunk)) > 0)
                {
                    if (buffer.Length + n > MaxFileBytes)
                    {
                        throw Failed($"{path} decompresses to more than {MaxFileBytes} bytes; it is not a Fashion-MNIST file");
                    }

                    buffer.Write(chunk, 0, n);
                }

                return buffer.ToArray();
            }
        }
        catch (InvalidDataException ex)
        {
            throw Failed($"{path} is not a valid gzip file: {ex.Message}", ex);
        }
        catch (IOException ex)
        {
            throw Failed($"{path} could not be read: {ex.Message}", ex);
        }
    }

    private static string? Find(string directory, string name)
    {
        foreach (string candidate in new[] { name + ".gz", name })
        {
            string path = Path.Combine(directory, candidate);
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    private static Z4AiCertificationException Failed(string message, Exception? inner = null) =>
        new(Z4AiErrorKind.EvaluatorFailed, message, inner);
}
