using NUnit.Framework;

namespace Z4Ai.Tests.Api;

/// <summary>The foundation's random-access promise at scale: one tensor out of a 1 GiB container.</summary>
[Category("Large")]
public class LargeContainerTests
{
    [Test]
    public void LoadTensor_From1GiBContainer_ReadsUnder2PercentForA10MiBTensor()
    {
        string dir = Path.Combine(Path.GetTempPath(), "z4ai-large-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            const int TensorBytes = 10 << 20;
            const int Count = 103; // 103 x 10 MiB = 1030 MiB of raw, incompressible bytes
            string path = Path.Combine(dir, "big.z4ai");
            byte[] probe = [];
            using (var output = new FileStream(path, FileMode.Create))
            {
                var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                ulong state = 0x9E3779B97F4A7C15UL;
                for (int i = 0; i < Count; i++)
                {
                    byte[] data = new byte[TensorBytes];
                    Span<ulong> words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(data.AsSpan());
                    for (int w = 0; w < words.Length; w++)
                    {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        words[w] = state;
                    }

                    if (i == Count / 2)
                    {
                        probe = data;
                    }

                    tensors[$"t{i:D3}"] = new Tensor(DType.U8, [TensorBytes], data);
                }

                SafeTensorsCompat.Save(tensors, output, options: new SaveOptions { Effort = CompressionEffort.Fast });
            }

            long fileLength = new FileInfo(path).Length;
            Assert.That(fileLength, Is.GreaterThan(1L << 30));
            using SafeTensorsReader reader = SafeTensorsCompat.Open(path);
            Tensor tensor = reader.GetTensor($"t{Count / 2:D3}");
            Assert.That(tensor.Data.Span.SequenceEqual(probe), Is.True);
            double share = (double)reader.BytesRead / fileLength;
            TestContext.Out.WriteLine($"read {reader.BytesRead} of {fileLength} bytes ({share:P2})");
            Assert.That(share, Is.LessThan(0.02));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
