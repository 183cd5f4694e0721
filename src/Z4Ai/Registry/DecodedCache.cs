using Z4Ai.Integrity;

namespace Z4Ai.Registry;

/// <summary>
/// Remembers the last decoded object, so walking a delta chain in order (v1, then v2 against v1, …) decodes each
/// object once. Holds one tensor.
/// </summary>
internal sealed class DecodedCache
{
    private readonly Lock _gate = new();
    private Sha256Digest _id;
    private byte[]? _bytes;

    public bool TryGet(Sha256Digest id, out byte[] bytes)
    {
        lock (_gate)
        {
            if (_bytes is not null && _id == id)
            {
                bytes = _bytes;
                return true;
            }
        }

        bytes = [];
        return false;
    }

    public void Set(Sha256Digest id, byte[] bytes)
    {
        lock (_gate)
        {
            _id = id;
            _bytes = bytes;
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _bytes = null;
        }
    }
}
