using System.Buffers.Binary;
using Z4Ai.Internal;
using W = Z4Ai.Format.SafeTensorsJsonWriter;

namespace Z4Ai.Format;

/// <content>The canonical writer layout.</content>
internal static partial class SafeTensorsFormat
{
    private const string MetadataKey = "__metadata__";

    /// <summary>
    /// Lays out a safetensors file exactly as the reference writer does: tensors sorted by dtype descending (the
    /// alignment order, so every tensor lands naturally aligned) then by name in UTF-8 byte order, offsets assigned
    /// contiguously, compact JSON with <c>__metadata__</c> first (its keys sorted, which the reference leaves to
    /// HashMap order) and each entry as <c>dtype, shape, data_offsets</c>, padded with spaces to a multiple of 8.
    /// </summary>
    /// <param name="tensors">The tensors, in any order; the result does not depend on it.</param>
    /// <param name="metadata">The <c>__metadata__</c> map, or null to omit it (an empty map is written as <c>{}</c>).</param>
    /// <param name="maxHeaderSize">The largest padded header accepted.</param>
    /// <exception cref="ArgumentException">A name, shape, dtype, length or metadata entry is null, negative, undefined or not valid UTF-16.</exception>
    /// <exception cref="Z4AiFormatException">
    /// ReservedName (a tensor named <c>__metadata__</c>), DuplicateKey, ValidationOverflow, MisalignedSlice,
    /// TensorInvalidInfo (the byte length does not match dtype and shape) or HeaderTooLarge.
    /// </exception>
    public static SafeTensorsLayout CreateLayout(
        IEnumerable<SafeTensorsLayoutInput> tensors,
        IReadOnlyDictionary<string, string>? metadata,
        long maxHeaderSize = DefaultMaxHeaderSize)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        CheckMaxHeaderSize(maxHeaderSize);
        SafeTensorsLayoutInput[] inputs = tensors.ToArray();

        var names = new HashSet<string>(inputs.Length, StringComparer.Ordinal);
        foreach (SafeTensorsLayoutInput t in inputs)
        {
            CheckInput(t);
            if (t.Name == MetadataKey)
            {
                // The reference accepts this name and writes a file it cannot read back (issue #849).
                ThrowHelper.Format(
                    Z4AiErrorKind.ReservedName,
                    "the name __metadata__ is reserved for the header's metadata map",
                    tensorName: t.Name);
            }

            if (!names.Add(t.Name))
            {
                ThrowHelper.Format(Z4AiErrorKind.DuplicateKey, "two tensors have this name", tensorName: t.Name);
            }
        }

        Array.Sort(inputs, static (a, b) =>
        {
            int c = b.DType.CompareTo(a.DType);
            return c != 0 ? c : CompareUtf8(a.Name, b.Name);
        });

        // Size checks in file order, as the reference's Metadata::new does on the write path.
        var entries = new SafeTensorsEntry[inputs.Length];
        long offset = 0;
        for (int i = 0; i < inputs.Length; i++)
        {
            SafeTensorsLayoutInput t = inputs[i];
            long expected = GetByteLength(t.DType, t.Shape, t.Name);
            if (t.ByteLength != expected)
            {
                ThrowHelper.Format(
                    Z4AiErrorKind.TensorInvalidInfo,
                    $"{Describe(t.DType, t.Shape)} needs {expected} bytes, but the tensor has {t.ByteLength}",
                    tensorName: t.Name);
            }

            if (offset > long.MaxValue - expected)
            {
                ThrowHelper.Format(
                    Z4AiErrorKind.ValidationOverflow, "the tensors add up to more bytes than a file can hold", tensorName: t.Name);
            }

            entries[i] = new SafeTensorsEntry(t.Name, t.DType, (long[])t.Shape.Clone(), offset, offset + expected);
            offset += expected;
        }

        KeyValuePair<string, string>[]? meta = metadata is null ? null : SortMetadata(metadata);

        long jsonLength = MeasureJson(entries, meta);
        long padded = (jsonLength + 7) / 8 * 8;
        if (padded > maxHeaderSize)
        {
            ThrowHelper.Format(
                Z4AiErrorKind.HeaderTooLarge,
                $"the header would be {padded} bytes, above the limit of {maxHeaderSize}");
        }

        byte[] header = new byte[8 + padded];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)padded);
        int written = WriteJson(header.AsSpan(8), entries, meta);
        header.AsSpan(8 + written).Fill((byte)' ');
        return new SafeTensorsLayout(header, entries, offset);
    }

    /// <summary>
    /// The padded header (8-byte length, compact JSON as <see cref="CreateLayout"/> writes it, spaces to a multiple
    /// of 8) for tensors already in file order, with contiguous offsets from 0, and the <c>__metadata__</c> member
    /// (pairs in the order given) first or, with <paramref name="metadataLast"/>, last; null when it would exceed
    /// <paramref name="maxHeaderSize"/> or the offsets overflow. The container uses it to rebuild a header it did
    /// not need to store.
    /// </summary>
    internal static byte[]? TryCreateHeader(
        IReadOnlyList<(string Name, DType DType, long[] Shape, long Length)> tensors,
        KeyValuePair<string, string>[]? metadata,
        bool metadataLast,
        long maxHeaderSize)
    {
        var entries = new SafeTensorsEntry[tensors.Count];
        long offset = 0;
        for (int i = 0; i < entries.Length; i++)
        {
            (string name, DType dtype, long[] shape, long length) = tensors[i];
            if (offset > long.MaxValue - length)
            {
                return null;
            }

            entries[i] = new SafeTensorsEntry(name, dtype, shape, offset, offset + length);
            offset += length;
        }

        long padded = (MeasureJson(entries, metadata) + 7) / 8 * 8;
        if (padded > maxHeaderSize)
        {
            return null;
        }

        byte[] header = new byte[8 + padded];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)padded);
        Span<byte> json = header.AsSpan(8);
        int written;
        if (!metadataLast || metadata is null || entries.Length == 0)
        {
            written = WriteJson(json, entries, metadata);
        }
        else
        {
            // {tensors} and {"__metadata__":{..}} joined as {tensors,"__metadata__":{..}}.
            written = WriteJson(json, entries, null) - 1;
            json[written++] = (byte)',';
            byte[] member = new byte[padded];
            int length = WriteJson(member, [], metadata);
            member.AsSpan(1, length - 1).CopyTo(json[written..]);
            written += length - 1;
        }

        header.AsSpan(8 + written).Fill((byte)' ');
        return header;
    }

    /// <summary>
    /// Orders strings as their UTF-8 bytes compare, which is Unicode code point order (and Rust's <c>str</c>
    /// order). Plain UTF-16 ordinal order differs for characters U+E000–U+FFFF against surrogate pairs, so both
    /// are moved into code point order before comparing.
    /// </summary>
    internal static int CompareUtf8(string a, string b)
    {
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
        {
            char x = a[i], y = b[i];
            if (x != y)
            {
                return CodePointRank(x) - CodePointRank(y);
            }
        }

        return a.Length - b.Length;

        static int CodePointRank(char c) => c < 0xD800 ? c : c >= 0xE000 ? c - 0x800 : c + 0x2000;
    }

    private static void CheckInput(SafeTensorsLayoutInput t)
    {
        if (t.Name is null)
        {
            throw new ArgumentException("A tensor has a null name.", nameof(t));
        }

        if (t.Shape is null)
        {
            throw new ArgumentException($"Tensor '{t.Name}' has a null shape.", nameof(t));
        }

        if (t.ByteLength < 0)
        {
            throw new ArgumentException($"Tensor '{t.Name}' has a negative byte length.", nameof(t));
        }

        if ((uint)t.DType >= DTypeInfo.Count)
        {
            throw new ArgumentException($"Tensor '{t.Name}' has the undefined dtype {(int)t.DType}.", nameof(t));
        }

        foreach (long d in t.Shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"Tensor '{t.Name}' has the negative dimension {d}.", nameof(t));
            }
        }
    }

    private static KeyValuePair<string, string>[] SortMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        var pairs = new KeyValuePair<string, string>[metadata.Count];
        int i = 0;
        foreach (KeyValuePair<string, string> kv in metadata)
        {
            if (kv.Value is null)
            {
                throw new ArgumentException($"Metadata key '{kv.Key}' has a null value.", nameof(metadata));
            }

            if (i == pairs.Length)
            {
                throw new ArgumentException("The metadata enumerates more entries than its Count.", nameof(metadata));
            }

            pairs[i++] = kv;
        }

        if (i != pairs.Length)
        {
            throw new ArgumentException("The metadata enumerates fewer entries than its Count.", nameof(metadata));
        }

        Array.Sort(pairs, static (a, b) => CompareUtf8(a.Key, b.Key));
        return pairs;
    }

    private static long MeasureJson(SafeTensorsEntry[] entries, KeyValuePair<string, string>[]? meta)
    {
        long length = 2; // { }
        int members = entries.Length;
        if (meta is not null)
        {
            members++;
            length += "\"__metadata__\":{}".Length + Math.Max(0, meta.Length - 1);
            foreach (KeyValuePair<string, string> kv in meta)
            {
                length += W.MeasureString(kv.Key, "metadata") + 1 + W.MeasureString(kv.Value, "metadata");
            }
        }

        length += Math.Max(0, members - 1); // commas between members
        foreach (SafeTensorsEntry e in entries)
        {
            // "name":{"dtype":"X","shape":[..],"data_offsets":[b,e]}
            length += W.MeasureString(e.Name, "tensors") + 1;
            length += "{\"dtype\":\"\",\"shape\":[],\"data_offsets\":[,]}".Length + e.DType.GetName().Length;
            length += Math.Max(0, e.Shape.Length - 1);
            foreach (long d in e.Shape)
            {
                length += W.MeasureUInt64((ulong)d);
            }

            length += W.MeasureUInt64((ulong)e.Begin) + W.MeasureUInt64((ulong)e.End);
        }

        return length;
    }

    private static int WriteJson(Span<byte> d, SafeTensorsEntry[] entries, KeyValuePair<string, string>[]? meta)
    {
        int p = 0;
        d[p++] = (byte)'{';
        bool first = true;
        if (meta is not null)
        {
            p += W.WriteRaw(d[p..], "\"__metadata__\":{"u8);
            for (int i = 0; i < meta.Length; i++)
            {
                if (i > 0)
                {
                    d[p++] = (byte)',';
                }

                p += W.WriteString(d[p..], meta[i].Key);
                d[p++] = (byte)':';
                p += W.WriteString(d[p..], meta[i].Value);
            }

            d[p++] = (byte)'}';
            first = false;
        }

        foreach (SafeTensorsEntry e in entries)
        {
            if (!first)
            {
                d[p++] = (byte)',';
            }

            first = false;
            p += W.WriteString(d[p..], e.Name);
            p += W.WriteRaw(d[p..], ":{\"dtype\":\""u8);
            foreach (char c in e.DType.GetName())
            {
                d[p++] = (byte)c;
            }

            p += W.WriteRaw(d[p..], "\",\"shape\":["u8);
            for (int i = 0; i < e.Shape.Length; i++)
            {
                if (i > 0)
                {
                    d[p++] = (byte)',';
                }

                p += W.WriteUInt64(d[p..], (ulong)e.Shape[i]);
            }

            p += W.WriteRaw(d[p..], "],\"data_offsets\":["u8);
            p += W.WriteUInt64(d[p..], (ulong)e.Begin);
            d[p++] = (byte)',';
            p += W.WriteUInt64(d[p..], (ulong)e.End);
            p += W.WriteRaw(d[p..], "]}"u8);
        }

        d[p++] = (byte)'}';
        return p;
    }
}
