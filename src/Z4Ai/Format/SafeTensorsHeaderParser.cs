using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Z4Ai.Internal;

namespace Z4Ai.Format;

/// <summary>
/// Steps 4–7 of the reference reader (<c>SafeTensors::read_metadata</c>) over the N header bytes: UTF-8 check, JSON
/// deserialization, the offset walk with per-tensor size checks, then the buffer-coverage check, each failing with
/// the reference's error kind and in the reference's order.
/// </summary>
/// <remarks>
/// Hand-written over <see cref="Utf8JsonReader"/> because the library is AOT-compatible (no reflection JSON). Numbers
/// stay <see cref="ulong"/> until every check has passed, so that values between <see cref="long.MaxValue"/> and
/// <see cref="ulong.MaxValue"/> fail at the same step, with the same kind, as in the reference.
/// </remarks>
internal static class SafeTensorsHeaderParser
{
    /// <summary>
    /// The largest rank accepted. The reference has no limit, but a 100 MB header of <c>[1,1,1,...]</c> would
    /// otherwise cost 400 MB of shape arrays; no real tensor comes close.
    /// </summary>
    public const int MaxRank = 1024;

    // serde_json's recursion limit; only unknown fields inside a tensor entry can nest at all.
    private const int MaxJsonDepth = 128;

    private const string MetadataKey = "__metadata__";

    private static readonly SearchValues<byte> Digits = SearchValues.Create("0123456789"u8);

    private struct RawEntry
    {
        public string Name;
        public DType DType;

        // The u64 dimensions, stored bit-for-bit in the long[] the entry will keep, so a valid shape is never
        // copied; a value above long.MaxValue reads as negative here and is rejected before anyone sees it.
        public long[] Shape;
        public ulong Begin;
        public ulong End;
    }

    public static SafeTensorsHeader Parse(ReadOnlySpan<byte> headerJson, long totalLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalLength, 8L + headerJson.Length, nameof(totalLength));

        // Step 4: the reference runs core::str::from_utf8, which is as strict as Utf8.IsValid (no overlongs, no
        // encoded surrogates, nothing above U+10FFFF).
        if (!Utf8.IsValid(headerJson))
        {
            int at = FirstInvalidUtf8(headerJson);
            ThrowHelper.Format(
                Z4AiErrorKind.InvalidHeaderUtf8,
                $"the header is not valid UTF-8 (bad sequence at header byte {at})",
                offset: 8L + at);
        }

        // Step 5: the JSON shape.
        Dictionary<string, string>? metadata;
        List<RawEntry> raw;
        Dictionary<string, int> index;
        string? duplicate, duplicateMetadataKey;
        try
        {
            (metadata, raw, index, duplicate, duplicateMetadataKey) = ReadJson(headerJson);
        }
        catch (JsonException ex)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.InvalidHeaderDeserialization,
                $"the header is not valid JSON: {ex.Message}",
                innerException: ex);
        }
        catch (InvalidOperationException ex)
        {
            // Utf8JsonReader.GetString throws this for an escaped lone surrogate (\ud800), which serde_json also rejects.
            throw new Z4AiFormatException(
                Z4AiErrorKind.InvalidHeaderDeserialization,
                $"the header has a string that is not valid Unicode: {ex.Message}",
                innerException: ex);
        }

        if (duplicate is not null)
        {
            // The reference keeps the last value and then usually fails at the offset walk with a misleading
            // InvalidOffset; Z4Ai names the real problem (docs/safetensors-compat.md).
            ThrowHelper.Format(
                Z4AiErrorKind.DuplicateKey,
                "the header names this tensor more than once; each tensor name must be unique",
                tensorName: duplicate);
        }

        if (duplicateMetadataKey is not null)
        {
            // serde's HashMap keeps the last value here too; a header that says two things is rejected.
            ThrowHelper.Format(
                Z4AiErrorKind.DuplicateKey,
                $"`__metadata__` has the key '{duplicateMetadataKey}' more than once");
        }

        return Validate(raw, index, metadata, headerJson.Length, totalLength);
    }

    private static SafeTensorsHeader Validate(
        List<RawEntry> raw,
        Dictionary<string, int> index,
        Dictionary<string, string>? metadata,
        long headerLength,
        long totalLength)
    {
        // Step 6: sort by (begin, end) and walk. Names break ties only to make the reported tensor deterministic
        // (the reference's choice among equal ranges depends on HashMap order). O(n log n) in all cases, so a
        // header with millions of tensors at [0,n] fails after one sort and one step of the walk.
        raw.Sort(static (a, b) =>
        {
            int c = a.Begin.CompareTo(b.Begin);
            if (c == 0)
            {
                c = a.End.CompareTo(b.End);
            }

            return c != 0 ? c : string.CompareOrdinal(a.Name, b.Name);
        });

        Span<RawEntry> sorted = CollectionsMarshal.AsSpan(raw);
        ulong start = 0;
        for (int i = 0; i < sorted.Length; i++)
        {
            ref readonly RawEntry e = ref sorted[i];
            ReadOnlySpan<ulong> dims = MemoryMarshal.Cast<long, ulong>(e.Shape);
            if (e.Begin != start || e.End < e.Begin)
            {
                string why = e.End < e.Begin
                    ? $"data_offsets [{e.Begin},{e.End}] end before they begin"
                    : $"data_offsets [{e.Begin},{e.End}] should begin at {start}, where the previous tensor ends (gap or overlap)";
                ThrowHelper.Format(Z4AiErrorKind.InvalidOffset, why, tensorName: e.Name);
            }

            start = e.End;

            // Steps 6b-6d, interleaved per tensor exactly as the reference does.
            switch (ShapeMath.TryGetByteLength(e.DType, dims, out ulong bytes))
            {
                case ShapeMath.Status.Overflow:
                    ThrowHelper.Format(
                        Z4AiErrorKind.ValidationOverflow,
                        $"the element or bit count of {Describe(e.DType, e.Shape)} overflows 64 bits",
                        tensorName: e.Name);
                    break;
                case ShapeMath.Status.Misaligned:
                    ThrowHelper.Format(
                        Z4AiErrorKind.MisalignedSlice,
                        $"{Describe(e.DType, e.Shape)} is not a whole number of bytes",
                        tensorName: e.Name);
                    break;
            }

            foreach (ulong d in dims)
            {
                if (d > long.MaxValue)
                {
                    // Only reachable when another dimension is 0 (otherwise the bit count overflowed above); the
                    // reference accepts such a shape, Z4Ai keeps shapes in long (docs/safetensors-compat.md).
                    ThrowHelper.Format(
                        Z4AiErrorKind.ValidationOverflow,
                        $"dimension {d} of {Describe(e.DType, e.Shape)} is above {long.MaxValue}",
                        tensorName: e.Name);
                }
            }

            if (e.End - e.Begin != bytes)
            {
                ThrowHelper.Format(
                    Z4AiErrorKind.TensorInvalidInfo,
                    $"{Describe(e.DType, e.Shape)} needs {bytes} bytes but data_offsets [{e.Begin},{e.End}] give {e.End - e.Begin}",
                    tensorName: e.Name);
            }
        }

        // Step 7: the file must end exactly where the last tensor ends: no trailing bytes, no missing bytes.
        ulong available = (ulong)(totalLength - 8 - headerLength);
        if (start != available)
        {
            string why = start > available
                ? $"the tensors need {start} data bytes but the file has {available} after the header (truncated)"
                : $"the tensors cover {start} data bytes but the file has {available} after the header (trailing bytes)";
            ThrowHelper.Format(Z4AiErrorKind.MetadataIncompleteBuffer, why);
        }

        // Every end is at most the data length, which fits the (long) file length, and every dimension was checked
        // to fit a long above. The name index built while parsing is re-pointed at offset order.
        var entries = new SafeTensorsEntry[sorted.Length];
        for (int i = 0; i < sorted.Length; i++)
        {
            ref readonly RawEntry e = ref sorted[i];
            entries[i] = new SafeTensorsEntry(e.Name, e.DType, e.Shape, (long)e.Begin, (long)e.End);
            CollectionsMarshal.GetValueRefOrNullRef(index, e.Name) = i;
        }

        return new SafeTensorsHeader(entries, index, metadata, headerLength, (long)start);
    }

    private static (
        Dictionary<string, string>? Metadata,
        List<RawEntry> Entries,
        Dictionary<string, int> Index,
        string? Duplicate,
        string? DuplicateMetadataKey) ReadJson(
        ReadOnlySpan<byte> json)
    {
        // serde_json does not skip a byte order mark; Utf8JsonReader would also fail, but with a vaguer message.
        if (json.StartsWith("\uFEFF"u8))
        {
            ThrowDeserialization("the header starts with a UTF-8 byte order mark", 8);
        }

        var reader = new Utf8JsonReader(json, new JsonReaderOptions
        {
            CommentHandling = JsonCommentHandling.Disallow,
            AllowTrailingCommas = false,
            MaxDepth = MaxJsonDepth,
        });

        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            ThrowDeserialization("the header must be a JSON object", 8 + reader.TokenStartIndex);
        }

        Dictionary<string, string>? metadata = null;
        bool sawMetadata = false;
        var entries = new List<RawEntry>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        string? duplicate = null;
        string? duplicateMetadataKey = null;
        var dims = new List<long>();

        while (true)
        {
            Read(ref reader);
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                break;
            }

            string key = reader.GetString()!;
            Read(ref reader);
            if (key == MetadataKey)
            {
                if (sawMetadata)
                {
                    ThrowDeserialization("duplicate field `__metadata__`", 8 + reader.TokenStartIndex);
                }

                sawMetadata = true;
                metadata = ReadMetadata(ref reader, ref duplicateMetadataKey);
                continue;
            }

            RawEntry entry = ReadTensor(ref reader, key, dims);
            if (!index.TryAdd(key, entries.Count))
            {
                duplicate ??= key;
            }

            entries.Add(entry);
        }

        // Only JSON whitespace may follow the object; Utf8JsonReader throws on anything else.
        if (reader.Read())
        {
            ThrowDeserialization("trailing characters after the header object", 8 + reader.TokenStartIndex);
        }

        return (metadata, entries, index, duplicate, duplicateMetadataKey);
    }

    private static Dictionary<string, string>? ReadMetadata(ref Utf8JsonReader reader, ref string? duplicate)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            ThrowDeserialization("`__metadata__` must be an object of string values or null", 8 + reader.TokenStartIndex);
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        while (true)
        {
            Read(ref reader);
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                return map;
            }

            string key = reader.GetString()!;
            Read(ref reader);
            if (reader.TokenType != JsonTokenType.String)
            {
                ThrowDeserialization(
                    $"`__metadata__` value for key '{key}' must be a string, found {reader.TokenType}",
                    8 + reader.TokenStartIndex);
            }

            if (!map.TryAdd(key, reader.GetString()!))
            {
                // Reported after the whole header parsed, so a JSON error later on still wins, as in the reference.
                duplicate ??= key;
            }
        }
    }

    private static RawEntry ReadTensor(ref Utf8JsonReader reader, string name, List<long> dims)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            ThrowDeserialization(
                $"tensor '{name}' must be an object with dtype, shape and data_offsets, found {reader.TokenType}",
                8 + reader.TokenStartIndex);
        }

        long objectStart = 8 + reader.TokenStartIndex;
        DType? dtype = null;
        long[]? shape = null;
        ulong begin = 0, end = 0;
        bool sawOffsets = false;

        while (true)
        {
            Read(ref reader);
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                break;
            }

            long fieldAt = 8 + reader.TokenStartIndex;
            if (reader.ValueTextEquals("dtype"u8))
            {
                Read(ref reader);
                if (dtype is not null)
                {
                    ThrowDeserialization($"duplicate field `dtype` in tensor '{name}'", fieldAt);
                }

                if (reader.TokenType != JsonTokenType.String)
                {
                    ThrowDeserialization($"dtype of tensor '{name}' must be a string", 8 + reader.TokenStartIndex);
                }

                string text = reader.GetString()!;
                if (!DTypeInfo.TryParse(text, out DType parsed))
                {
                    ThrowDeserialization($"unknown dtype '{text}' for tensor '{name}'", 8 + reader.TokenStartIndex);
                }

                dtype = parsed;
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                Read(ref reader);
                if (shape is not null)
                {
                    ThrowDeserialization($"duplicate field `shape` in tensor '{name}'", fieldAt);
                }

                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    ThrowDeserialization($"shape of tensor '{name}' must be an array", 8 + reader.TokenStartIndex);
                }

                dims.Clear();
                while (true)
                {
                    Read(ref reader);
                    if (reader.TokenType == JsonTokenType.EndArray)
                    {
                        break;
                    }

                    if (dims.Count == MaxRank)
                    {
                        ThrowHelper.Format(
                            Z4AiErrorKind.LimitExceeded,
                            $"the shape has more than {MaxRank} dimensions",
                            tensorName: name,
                            offset: 8 + reader.TokenStartIndex);
                    }

                    dims.Add(unchecked((long)ReadUInt64(ref reader, name, "shape")));
                }

                shape = dims.ToArray();
            }
            else if (reader.ValueTextEquals("data_offsets"u8))
            {
                Read(ref reader);
                if (sawOffsets)
                {
                    ThrowDeserialization($"duplicate field `data_offsets` in tensor '{name}'", fieldAt);
                }

                long at = 8 + reader.TokenStartIndex;
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    ThrowDeserialization($"data_offsets of tensor '{name}' must be an array [begin, end]", at);
                }

                Read(ref reader);
                if (reader.TokenType == JsonTokenType.EndArray)
                {
                    ThrowDeserialization($"data_offsets of tensor '{name}' must have 2 elements, found 0", at);
                }

                begin = ReadUInt64(ref reader, name, "data_offsets");
                Read(ref reader);
                if (reader.TokenType == JsonTokenType.EndArray)
                {
                    ThrowDeserialization($"data_offsets of tensor '{name}' must have 2 elements, found 1", at);
                }

                end = ReadUInt64(ref reader, name, "data_offsets");
                Read(ref reader);
                if (reader.TokenType != JsonTokenType.EndArray)
                {
                    ThrowDeserialization($"data_offsets of tensor '{name}' must have 2 elements, found more", at);
                }

                sawOffsets = true;
            }
            else
            {
                // Unknown fields are ignored, as serde does without deny_unknown_fields; Skip still checks syntax.
                Read(ref reader);
                reader.Skip();
            }
        }

        if (dtype is null || shape is null || !sawOffsets)
        {
            string missing = dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets";
            ThrowDeserialization($"missing field `{missing}` in tensor '{name}'", objectStart);
        }

        return new RawEntry { Name = name, DType = dtype.Value, Shape = shape, Begin = begin, End = end };
    }

    /// <summary>
    /// Reads a JSON number that must be a plain non-negative integer within u64, as serde requires for usize:
    /// no sign, fraction or exponent (serde_json turns those into i64/f64 and the usize visitor rejects them).
    /// </summary>
    private static ulong ReadUInt64(ref Utf8JsonReader reader, string name, string field)
    {
        long at = 8 + reader.TokenStartIndex;
        if (reader.TokenType != JsonTokenType.Number)
        {
            ThrowDeserialization($"{field} of tensor '{name}' must hold integers, found {reader.TokenType}", at);
        }

        ReadOnlySpan<byte> digits = reader.ValueSpan;
        if (digits.ContainsAnyExcept(Digits))
        {
            ThrowDeserialization(
                $"{field} of tensor '{name}' must hold non-negative integers, found {Encoding.UTF8.GetString(digits)}", at);
        }

        if (!Utf8Parser.TryParse(digits, out ulong value, out int consumed) || consumed != digits.Length)
        {
            ThrowDeserialization(
                $"{field} of tensor '{name}' holds {Encoding.UTF8.GetString(digits)}, which is above {ulong.MaxValue}", at);
        }

        return value;
    }

    private static void Read(ref Utf8JsonReader reader)
    {
        // The input is the complete header, so running out of tokens means it was cut short.
        if (!reader.Read())
        {
            ThrowDeserialization("the header JSON ends early", 8 + reader.BytesConsumed);
        }
    }

    private static string Describe(DType dtype, long[] shape) =>
        $"{dtype.GetName()}[{string.Join(",", MemoryMarshal.Cast<long, ulong>(shape).ToArray())}]";

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        int i = 0;
        while (i < bytes.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(bytes[i..], out _, out int consumed) != OperationStatus.Done)
            {
                return i;
            }

            i += consumed;
        }

        return i;
    }

    [DoesNotReturn]
    private static void ThrowDeserialization(string message, long offset) =>
        ThrowHelper.Format(Z4AiErrorKind.InvalidHeaderDeserialization, message, offset: offset);
}
