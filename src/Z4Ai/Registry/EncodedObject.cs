using CommunityToolkit.HighPerformance.Buffers;

namespace Z4Ai.Registry;

/// <summary>An object encoded in memory, ready to be stored: payload frames, then tail and trailer.</summary>
internal sealed class EncodedObject : IDisposable
{
    private readonly ArrayPoolBufferWriter<byte>[] _frames;

    public EncodedObject(ObjectTable table, ArrayPoolBufferWriter<byte>[] frames, byte[] tail)
    {
        Table = table;
        _frames = frames;
        Tail = tail;
    }

    public ObjectTable Table { get; }

    public byte[] Tail { get; }

    public long Length => Table.PayloadLength + Tail.Length;

    /// <summary>The payload of a single-frame object (a delta).</summary>
    public ReadOnlySpan<byte> SinglePayload => _frames.Length == 1 ? _frames[0].WrittenSpan : throw new InvalidOperationException("the payload has several frames");

    public async ValueTask WriteToAsync(Stream output, CancellationToken ct)
    {
        foreach (ArrayPoolBufferWriter<byte> frame in _frames)
        {
            await output.WriteAsync(frame.WrittenMemory, ct).ConfigureAwait(false);
        }

        await output.WriteAsync(Tail, ct).ConfigureAwait(false);
    }

    public void Dispose()
    {
        foreach (ArrayPoolBufferWriter<byte> frame in _frames)
        {
            frame.Dispose();
        }
    }
}
