using System.Globalization;
using System.Text;
using Z4Ai;

namespace StreamingInference;

/// <summary>
/// A deterministic BF16 model of any shape, presented as the bytes of a <c>.safetensors</c> file that are computed
/// when read (<see cref="SafetensorsImageStream"/>): no weight is ever held in memory beyond the read buffer, so a 13 GB
/// model is generated and compressed in bounded memory with the public <see cref="Z4AiContainer.Compress(Stream, Stream, SaveOptions?, IProgress{ProgressInfo}?, CancellationToken)"/>.
/// </summary>
public static class SyntheticModel
{
    /// <summary>Writes the model as a <c>.z4ai</c> container (or plain <c>.safetensors</c>), via a temporary name.</summary>
    public static void Generate(ModelConfig config, string path, bool container, ulong seed, CompressionEffort effort, TextWriter log)
    {
        config.Validate();
        using var image = new SafetensorsImageStream(config, seed);
        string temporary = path + ".tmp";
        using (var output = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            if (container)
            {
                long next = 0;
                var progress = new SynchronousProgress(p =>
                {
                    if (p.BytesTotal >= (64 << 20) && p.BytesDone >= next)
                    {
                        log.WriteLine($"  {p.BytesDone >> 20} / {p.BytesTotal >> 20} MiB");
                        next = p.BytesDone + (p.BytesTotal / 10);
                    }
                });
                Z4AiContainer.Compress(image, output, new SaveOptions { Effort = effort }, progress);
            }
            else
            {
                image.CopyTo(output, 1 << 20);
            }
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The value of element <paramref name="index"/> of tensor number <paramref name="tensor"/>, as BF16 bits.</summary>
    public static ushort Weight(ulong seed, int tensor, long index, bool isNorm, float scale)
    {
        ulong z = Mix(seed + ((ulong)(tensor + 1) * 0x9E3779B97F4A7C15UL) + ((ulong)index * 0xD1B54A32D192ED03UL));
        // Three 21-bit uniforms summed: a bell-shaped value in [-1.5, 1.5) with deterministic integer arithmetic.
        long sum = (long)(z & 0x1FFFFF) + (long)((z >> 21) & 0x1FFFFF) + (long)((z >> 42) & 0x1FFFFF) - (3L << 20);
        float unit = sum / (float)(1 << 21);
        float value = isNorm ? 1f + (0.1f * unit) : scale * unit;
        uint bits = (uint)BitConverter.SingleToInt32Bits(value);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16); // round to nearest even
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A read-only, seekable stream whose bytes are a safetensors file of the synthetic model.</summary>
    public sealed class SafetensorsImageStream : Stream
    {
        private readonly ulong _seed;
        private readonly byte[] _header;
        private readonly (long Begin, long End, bool IsNorm, float Scale)[] _tensors;
        private long _position;

        public SafetensorsImageStream(ModelConfig config, ulong seed)
        {
            _seed = seed;
            IReadOnlyList<(string Name, long[] Shape)> layout = config.Layout();
            _tensors = new (long, long, bool, float)[layout.Count];
            var json = new StringBuilder("{\"__metadata__\":{");
            json.AppendJoin(',', config.ToMetadata().OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"\"{p.Key}\":\"{p.Value}\""));
            json.Append('}');
            long offset = 0;
            for (int i = 0; i < layout.Count; i++)
            {
                (string name, long[] shape) = layout[i];
                long length = shape.Aggregate(2L, (a, d) => a * d);
                bool isNorm = shape.Length == 1;
                float scale = isNorm ? 0 : 1f / MathF.Sqrt(shape[^1]);
                _tensors[i] = (offset, offset + length, isNorm, scale);
                json.Append(CultureInfo.InvariantCulture, $",\"{name}\":{{\"dtype\":\"BF16\",\"shape\":[{string.Join(',', shape)}],\"data_offsets\":[{offset},{offset + length}]}}");
                offset += length;
            }

            json.Append('}');
            while ((json.Length + 8) % 8 != 0)
            {
                json.Append(' ');
            }

            byte[] text = Encoding.UTF8.GetBytes(json.ToString());
            _header = new byte[8 + text.Length];
            BitConverter.TryWriteBytes(_header.AsSpan(0, 8), (ulong)text.Length);
            text.CopyTo(_header, 8);
            Length = _header.Length + offset;
        }

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length { get; }

        public override long Position
        {
            get => _position;
            set => _position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int total = 0;
            while (total < buffer.Length && _position < Length)
            {
                int n = Fill(_position, buffer[total..]);
                _position += n;
                total += n;
            }

            return total;
        }

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => Length + offset,
        };

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        // Writes bytes from `position` on, within one region (the header or one tensor); returns how many.
        private int Fill(long position, Span<byte> destination)
        {
            if (position < _header.Length)
            {
                int n = (int)Math.Min(destination.Length, _header.Length - position);
                _header.AsSpan((int)position, n).CopyTo(destination);
                return n;
            }

            long data = position - _header.Length;
            int t = FindTensor(data);
            (long begin, long end, bool isNorm, float scale) = _tensors[t];
            int count = (int)Math.Min(destination.Length, end - data);
            long first = data - begin;
            int i = 0;
            if ((first & 1) != 0)
            {
                destination[i++] = (byte)(Weight(_seed, t, first >> 1, isNorm, scale) >> 8);
            }

            for (; i + 1 < count; i += 2)
            {
                ushort value = Weight(_seed, t, (first + i) >> 1, isNorm, scale);
                destination[i] = (byte)value;
                destination[i + 1] = (byte)(value >> 8);
            }

            if (i < count)
            {
                destination[i] = (byte)Weight(_seed, t, (first + i) >> 1, isNorm, scale);
            }

            return count;
        }

        private int FindTensor(long dataOffset)
        {
            int lo = 0;
            int hi = _tensors.Length - 1;
            while (lo < hi)
            {
                int mid = (lo + hi + 1) / 2;
                if (_tensors[mid].Begin <= dataOffset)
                {
                    lo = mid;
                }
                else
                {
                    hi = mid - 1;
                }
            }

            return lo;
        }
    }

    private sealed class SynchronousProgress(Action<ProgressInfo> report) : IProgress<ProgressInfo>
    {
        public void Report(ProgressInfo value) => report(value);
    }
}
