using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Z4Ai.Archival;

/// <summary>
/// The archival context-mixing model (model id 1, versions 1 to 3): order-0 and order-1 direct contexts, a preset's
/// hashed contexts (orders 2 to 6, words, columns, indentation, brackets, keys, sparse bytes), a match model, three gated
/// mixers averaged in the stretched domain, and an adaptive probability map. Integer arithmetic only. Version 2 is
/// version 1 plus a word-pair context for the text presets. Version 3 is version 2 plus a second match model that
/// follows the most recent occurrence of the last two bytes (two more mixer inputs) and a fourth mixer selected by
/// the byte two back and the bit position.
/// </summary>
/// <remarks>
/// <para>Hashed contexts live in one table of 16-byte slots: a check byte and the 15 bit-history states of a
/// nibble's binary tree. Each context looks up a slot at the start of each nibble (the context hash, plus the
/// high nibble when coding the low one), probing the four slots of one 64-byte group and replacing the least used
/// on a miss. Order 0 and order 1 index their states directly.</para>
/// <para>Each context contributes stretch(p), where p is its state's adaptive probability. The match model adds
/// its learned confidence and a signed strength growing with the match length. Mixer weight sets are selected
/// by the partial byte; by how many contexts have seen this point before together with the match state; and by
/// the previous byte with the bit position. Their stretched outputs are averaged, and an adaptive probability
/// map on the partial byte and previous byte refines the result.</para>
/// </remarks>
internal sealed class ContextMixModel : ISymbolModel
{
    /// <summary>The model id recorded in frames.</summary>
    public const byte ModelId = 1;

    /// <summary>The first model version; any change to predictions requires a new version.</summary>
    public const byte ModelVersion = 1;

    /// <summary>The newest model version, which encoders write by default.</summary>
    public const byte LatestVersion = 3;

    /// <summary>The version encoders write unless told otherwise.</summary>
    public const byte DefaultVersion = 2;

    // Version 3's second match model follows matches from this length on.
    private const int ShortMatchMinLength = 2;

    // Its table: at most 2^16 entries, enough for every pair of bytes, and small enough to stay in cache.
    private const int ShortMatchBits = 16;

    private const uint Mul1 = 0x9E3779B1u;
    private const uint Mul2 = 0x85EBCA77u;
    private const uint Mul3 = 0xC2B2AE3Du;

    private static readonly byte[] Priority = BuildPriority();

    // Reciprocal step sizes 2^17 / (2n + 3): the first visits of a state move its probability far, later ones settle.
    private static readonly int[] Rates = BuildRates();

    private readonly ContextMixPreset _preset;
    private readonly ContextKind[] _kinds;
    private readonly int _contexts;

    // Context states: [hash slots][order-1: 65536][order-0: 256].
    // Pinned, so the logical table can start on a 64-byte boundary (_tBase into the array) and every slot group
    // lies in one cache line. The layout is memory placement only; no index or prediction depends on it.
    private readonly byte[] _t;
    private readonly int _tBase;
    private readonly int _groupMask;
    private readonly int _o1Base;
    private readonly int _o0Base;

    // Per context (0 = order 0, 1 = order 1, then the hashed ones): the state byte in use and its state-map entry.
    private readonly int[] _ptr;
    private readonly int[] _smIndex;
    private readonly uint[] _sm;

    // Per hashed context: the byte-level hash and the slot of the current nibble.
    private readonly uint[] _hash;
    private readonly int[] _slot;

    private readonly MatchModel _match;
    private readonly uint[] _matchSm;
    private int _matchSmIndex;

    // Version 3: a second match model following the most recent occurrence of the last two bytes.
    private readonly MatchModel? _shortMatch;
    private readonly uint[] _shortMatchSm;
    private int _shortMatchSmIndex = -1;

    private readonly short[] _inputs;
    private readonly Mixer _mixer0;
    private readonly Mixer _mixer1;
    private readonly Mixer _mixer2;
    private readonly Apm _apm;

    // Version 3: a fourth mixer whose weight set is chosen by the byte two back and the bit position.
    private readonly Mixer? _mixer3;

    private byte[] _history;
    private int _pos;
    private int _c0 = 1;
    private int _bitPos;
    private uint _c4;
    private uint _c8;
    private TextState _text = TextState.Initial;

    /// <summary>Builds a fresh model.</summary>
    /// <param name="settings">The preset and table sizes.</param>
    /// <param name="historyCapacity">The expected history length (primer plus data); the buffer grows if exceeded.</param>
    /// <param name="version">The model version, <see cref="ModelVersion"/> to <see cref="LatestVersion"/>.</param>
    public ContextMixModel(ContextMixSettings settings, int historyCapacity, byte version = ModelVersion)
    {
        Settings = settings;
        _preset = ContextMixPreset.Get(settings.Preset);
        _kinds = _preset.ContextsFor(version);
        _contexts = 2 + _kinds.Length;

        int tableBytes = 1 << settings.TableBits;
        _groupMask = (tableBytes >> 6) - 1;
        _o1Base = tableBytes;
        _o0Base = tableBytes + 65536;
        (_t, _tBase) = AllocateTable(tableBytes + 65536 + 256);

        _ptr = new int[_contexts];
        _smIndex = new int[_contexts];
        _sm = BuildStateMaps(_contexts);
        _hash = new uint[_kinds.Length];
        _slot = new int[_kinds.Length];

        _match = new MatchModel(settings.MatchBits, _preset.MatchMinLength);
        _matchSm = new uint[64];
        _matchSm.AsSpan().Fill(1u << 31);

        _shortMatchSm = new uint[64];
        _shortMatchSm.AsSpan().Fill(1u << 31);
        if (version >= 3)
        {
            _shortMatch = new MatchModel(Math.Min(settings.MatchBits, ShortMatchBits), ShortMatchMinLength);
        }

        int inputCount = _contexts + (version >= 3 ? 5 : 3);
        _inputs = new short[Mixer.PadInputs(inputCount)];
        int initial = (1 << 14) / inputCount;
        _mixer0 = new Mixer(_inputs, 256, _preset.MixerRate, initial);
        _mixer1 = new Mixer(_inputs, 256, _preset.MixerRate, initial);
        _mixer2 = new Mixer(_inputs, 1024, _preset.MixerRate, initial);
        if (version >= 3)
        {
            _mixer3 = new Mixer(_inputs, 2048, _preset.MixerRate, initial);
        }

        _apm = new Apm(65536, 7);

        _history = new byte[Math.Max(256, historyCapacity)];
        Descriptor = SymbolModels.ContextMix(settings, version);
        StartByte();
    }

    private ContextMixModel(ContextMixModel o)
    {
        Settings = o.Settings;
        Descriptor = o.Descriptor;
        _preset = o._preset;
        _kinds = o._kinds;
        _contexts = o._contexts;
        int length = o._t.Length - 64;
        (_t, _tBase) = AllocateTable(length);
        o._t.AsSpan(o._tBase, length).CopyTo(_t.AsSpan(_tBase, length));
        _groupMask = o._groupMask;
        _o1Base = o._o1Base;
        _o0Base = o._o0Base;
        _ptr = (int[])o._ptr.Clone();
        _smIndex = (int[])o._smIndex.Clone();
        _sm = (uint[])o._sm.Clone();
        _hash = (uint[])o._hash.Clone();
        _slot = (int[])o._slot.Clone();
        _match = o._match.Clone();
        _matchSm = (uint[])o._matchSm.Clone();
        _shortMatch = o._shortMatch?.Clone();
        _shortMatchSm = (uint[])o._shortMatchSm.Clone();
        _shortMatchSmIndex = o._shortMatchSmIndex;
        _matchSmIndex = o._matchSmIndex;
        _inputs = (short[])o._inputs.Clone();
        _mixer0 = o._mixer0.CloneOver(_inputs);
        _mixer1 = o._mixer1.CloneOver(_inputs);
        _mixer2 = o._mixer2.CloneOver(_inputs);
        _apm = o._apm.Clone();
        _mixer3 = o._mixer3?.CloneOver(_inputs);
        _history = (byte[])o._history.Clone();
        _pos = o._pos;
        _c0 = o._c0;
        _bitPos = o._bitPos;
        _c4 = o._c4;
        _c8 = o._c8;
        _text = o._text;
    }

    /// <inheritdoc />
    public ModelDescriptor Descriptor { get; }

    /// <summary>The settings the model was built with.</summary>
    public ContextMixSettings Settings { get; }

    /// <inheritdoc />
    public ISymbolModel Clone() => new ContextMixModel(this);

    /// <inheritdoc />
    public void Learn(ReadOnlySpan<byte> symbols)
    {
        foreach (byte b in symbols)
        {
            for (int i = 7; i >= 0; i--)
            {
                Predict();
                Update((b >> i) & 1);
            }
        }
    }

    /// <inheritdoc />
    public int Predict()
    {
        ref byte t = ref Table;
        ref uint sm = ref MemoryMarshal.GetArrayDataReference(_sm);
        ref short inputs = ref MemoryMarshal.GetArrayDataReference(_inputs);
        ref int ptr = ref MemoryMarshal.GetArrayDataReference(_ptr);
        ref int smIndex = ref MemoryMarshal.GetArrayDataReference(_smIndex);
        int contexts = _contexts;
        int known = 0;
        for (int i = 0; i < contexts; i++)
        {
            int state = Unsafe.Add(ref t, Unsafe.Add(ref ptr, i));
            known += state != 0 ? 1 : 0;
            int index = (i << 8) | state;
            Unsafe.Add(ref smIndex, i) = index;
            Unsafe.Add(ref inputs, i) = (short)Logistic.Stretch((int)(Unsafe.Add(ref sm, index) >> 20));
        }

        int expected = MatchInputs(_match, _matchSm, ref _matchSmIndex, ref Unsafe.Add(ref inputs, contexts));
        int matchContext = 0;
        if (expected != 0)
        {
            matchContext = 1 + (Math.Min(MatchModel.Bucket(_match.Length) >> 2, 6) << 1) + (expected - 1);
        }

        Unsafe.Add(ref inputs, contexts + 2) = 256;
        if (_shortMatch is not null)
        {
            MatchInputs(_shortMatch, _shortMatchSm, ref _shortMatchSmIndex, ref Unsafe.Add(ref inputs, contexts + 3));
        }

        int c1 = (int)(_c4 & 0xFF);
        int s0 = _mixer0.Mix(_c0);
        int s1 = _mixer1.Mix((Math.Min(known, 15) << 4) | matchContext);
        int s2 = _mixer2.Mix((c1 << 2) | (_bitPos >> 1));
        int pm;
        if (_mixer3 is not null)
        {
            int s3 = _mixer3.Mix((int)(((_c4 >> 8) & 0xFF) << 3) | _bitPos);
            pm = Logistic.Squash((s0 + s1 + s2 + s3) >> 2);
        }
        else
        {
            // The mixers are averaged in the stretched domain (a learned final mixer gained nothing).
            pm = Logistic.Squash(((s0 + s1 + s2) * 21845) >> 16);
        }

        int pa = _apm.Refine(pm, _c0 | (c1 << 8));
        return Math.Clamp((pm + (pa * 3) + 2) >> 2, 1, 4095);
    }

    /// <inheritdoc />
    public void Update(int bit)
    {
        ref byte t = ref Table;
        ref uint sm = ref MemoryMarshal.GetArrayDataReference(_sm);
        ref int ptr = ref MemoryMarshal.GetArrayDataReference(_ptr);
        ref int smIndex = ref MemoryMarshal.GetArrayDataReference(_smIndex);
        int limit = _preset.StateLimit;
        for (int i = 0; i < _contexts; i++)
        {
            ref byte node = ref Unsafe.Add(ref t, Unsafe.Add(ref ptr, i));
            node = BitHistory.Next(node, bit);
            UpdateState(ref Unsafe.Add(ref sm, Unsafe.Add(ref smIndex, i)), bit, limit);
        }

        if (_matchSmIndex >= 0)
        {
            UpdateState(ref _matchSm[_matchSmIndex], bit, 1023);
        }

        if (_shortMatchSmIndex >= 0)
        {
            UpdateState(ref _shortMatchSm[_shortMatchSmIndex], bit, 1023);
        }

        _mixer0.Update(bit);
        _mixer1.Update(bit);
        _mixer2.Update(bit);
        _apm.Update(bit);
        _mixer3?.Update(bit);

        _c0 = (_c0 << 1) | bit;
        _bitPos++;
        if (_bitPos == 8)
        {
            EndByte((byte)_c0);
            StartByte();
        }
        else
        {
            if (_bitPos == 3)
            {
                PrefetchSecondNibble();
            }
            else if (_bitPos == 7)
            {
                PrefetchNextByte();
            }
            else if (_bitPos == 4)
            {
                uint nibble = (uint)_c0;
                for (int i = 0; i < _hash.Length; i++)
                {
                    _slot[i] = (int)Finalize(_hash[i] + (nibble * Mul2));
                    Prefetch((uint)_slot[i]);
                }

                for (int i = 0; i < _hash.Length; i++)
                {
                    _slot[i] = Find((uint)_slot[i]);
                }
            }

            SetPointers();
        }
    }

    // The logical table (hashed slots, order 1, order 0), 64-byte aligned.
    private ref byte Table
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_t), _tBase);
    }

    // A zeroed pinned array of length + 64 bytes and the offset of its first 64-byte aligned byte.
    private static unsafe (byte[] Array, int Base) AllocateTable(int length)
    {
        byte[] array = GC.AllocateArray<byte>(length + 64, pinned: true);
        nuint address = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        return (array, (int)((64 - (address & 63)) & 63));
    }

    // Sets the two inputs of a match model at input (learned confidence, signed strength), or zeros without an
    // expected bit; returns the expected bit plus 1, or 0.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int MatchInputs(MatchModel match, uint[] stateMap, ref int smIndex, ref short input)
    {
        // The expected bit (1 or 2 for 0 or 1) while the partial byte agrees with the match.
        int expected = 0;
        if (match.Length > 0)
        {
            int predicted = match.PredictedByte | 256;
            if (predicted >> (8 - _bitPos) == _c0)
            {
                expected = ((predicted >> (7 - _bitPos)) & 1) + 1;
            }
            else
            {
                match.Break();
            }
        }

        if (expected != 0)
        {
            smIndex = (MatchModel.Bucket(match.Length) << 1) | (expected - 1);
            input = (short)Logistic.Stretch((int)(stateMap[smIndex] >> 20));
            int strength = Math.Min(match.Length, 31) << 6;
            Unsafe.Add(ref input, 1) = (short)(expected == 2 ? strength : -strength);
        }
        else
        {
            smIndex = -1;
            input = 0;
            Unsafe.Add(ref input, 1) = 0;
        }

        return expected;
    }

    private static uint[] BuildStateMaps(int contexts)
    {
        // Each state starts at the estimate its counts imply, (n1 + 1/2) / (n0 + n1 + 1).
        var table = new uint[contexts * 256];
        for (int g = 0; g < contexts; g++)
        {
            for (int s = 0; s < 256; s++)
            {
                int n0 = BitHistory.ZeroCount(s);
                int n1 = BitHistory.OneCount(s);
                uint p = (uint)((((n1 * 2) + 1) << 22) / (((n0 + n1) * 2) + 2));
                table[(g * 256) + s] = p << 10;
            }
        }

        return table;
    }

    private static byte[] BuildPriority()
    {
        var priority = new byte[256];
        for (int s = 0; s < 256; s++)
        {
            priority[s] = (byte)Math.Min(255, BitHistory.ZeroCount(s) + BitHistory.OneCount(s));
        }

        return priority;
    }

    private static int[] BuildRates()
    {
        var rates = new int[1024];
        for (int n = 0; n < rates.Length; n++)
        {
            rates[n] = (1 << 17) / ((2 * n) + 3);
        }

        return rates;
    }

    // A state-map entry: 22-bit probability above a 10-bit visit count.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void UpdateState(ref uint entry, int bit, int limit)
    {
        uint v = entry;
        int n = (int)(v & 1023);
        int p = (int)(v >> 10);
        p += (int)(((long)((bit << 22) - p) * Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Rates), n)) >> 17);
        if (n < limit)
        {
            n++;
        }

        entry = ((uint)p << 10) | (uint)n;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Finalize(uint h)
    {
        h ^= h >> 16;
        h *= 0x7FEB352Du;
        h ^= h >> 15;
        h *= 0x846CA68Bu;
        h ^= h >> 16;
        return h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Hash(uint kind, uint a, uint b) => Finalize((a * Mul1) ^ (b * Mul2) ^ ((kind + 1) * Mul3));

    // The table offset of the slot for hash h: the slot of its 64-byte group with the matching check byte, or the
    // least used one, cleared and claimed.
    private int Find(uint h)
    {
        ref byte t = ref Table;
        int group = (int)(h & (uint)_groupMask) << 6;
        byte check = (byte)(h >> 24);
        for (int j = 0; j < 64; j += 16)
        {
            if (Unsafe.Add(ref t, group + j) == check)
            {
                return group + j;
            }
        }

        int best = group;
        int bestPriority = Priority[Unsafe.Add(ref t, group + 1)];
        for (int j = 16; j < 64; j += 16)
        {
            int p = Priority[Unsafe.Add(ref t, group + j + 1)];
            if (p < bestPriority)
            {
                bestPriority = p;
                best = group + j;
            }
        }

        ref byte slot = ref Unsafe.Add(ref t, best);
        Unsafe.WriteUnaligned(ref slot, 0UL);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref slot, 8), 0UL);
        slot = check;
        return best;
    }

    private void SetPointers()
    {
        int c0 = _c0;

        // The node of the nibble's binary tree: 1, then 2..3, 4..7, 8..15, restarting at the second nibble.
        int node = _bitPos < 4 ? c0 : (c0 & ((1 << (_bitPos - 4)) - 1)) | (1 << (_bitPos - 4));
        _ptr[0] = _o0Base + c0;
        _ptr[1] = _o1Base + (int)((_c4 & 0xFF) << 8) + c0;
        for (int i = 0; i < _slot.Length; i++)
        {
            _ptr[i + 2] = _slot[i] + node;
        }
    }

    private void StartByte()
    {
        _c0 = 1;
        _bitPos = 0;
        for (int i = 0; i < _kinds.Length; i++)
        {
            _hash[i] = ContextHash(_kinds[i]);
            Prefetch(_hash[i]);
        }

        // The match model's work overlaps the slot fetches just started.
        if (_pos > 0)
        {
            _match.Update(_history, _pos, _c4, _c8);
            _shortMatch?.Update(_history, _pos, _c4, _c8);
        }

        for (int i = 0; i < _kinds.Length; i++)
        {
            _slot[i] = Find(_hash[i]);
        }

        SetPointers();
    }

    private void EndByte(byte c)
    {
        if (_pos == _history.Length)
        {
            Array.Resize(ref _history, _history.Length * 2);
        }

        _history[_pos++] = c;
        _c8 = (_c8 << 8) | (_c4 >> 24);
        _c4 = (_c4 << 8) | c;
        _text.Update(c, _pos, _preset.WordDigits);
    }

    // Starts loading the slot group of hash h into the cache; a hint only, it changes no result.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe void Prefetch(uint h)
    {
        if (Sse.IsSupported)
        {
            int group = (int)(h & (uint)_groupMask) << 6;
            Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref Table, group)));
        }
    }

    private uint ContextHash(ContextKind kind) => ContextHash(kind, _c4, _c8, ref _text, _pos);

    // The hash of context kind after the bytes summarised by c4, c8, s and pos (the history length).
    private uint ContextHash(ContextKind kind, uint c4, uint c8, ref TextState s, int pos)
    {
        uint c1 = c4 & 0xFF;
        uint k = (uint)kind;
        return kind switch
        {
            ContextKind.Order2 => Hash(k, c4 & 0xFFFF, 0),
            ContextKind.Order3 => Hash(k, c4 & 0xFFFFFF, 0),
            ContextKind.Order4 => Hash(k, c4, 0),
            ContextKind.Order6 => Hash(k, c4, c8 & 0xFFFF),
            ContextKind.WordPair => Hash(k, s.Word0 ^ (s.Word1 * Mul3), c1),
            ContextKind.Word => s.Word0 != 0 ? Hash(k, s.Word0, 0) : Hash(k, s.Word1, c1 | 0x100),
            ContextKind.Column => Hash(k, Above(ref s, pos), c1),
            ContextKind.Indent => Hash(k, (uint)Math.Min(s.Indent, 255) | ((uint)s.LineFirst << 8), c1 | ((s.InIndent ? 1u : 0u) << 8)),
            ContextKind.Bracket => Hash(k, (s.Brackets & 0xFF) | ((uint)Math.Min(s.Depth, 63) << 8), c1),
            ContextKind.Key => Hash(k, s.Key ^ ((uint)Math.Min(s.Depth, 63) * Mul1), s.InString ? c1 | 0x100 : c1),
            ContextKind.Skip1 => Hash(k, c4 & 0xFF00, 0),
            ContextKind.Skip2 => Hash(k, c4 & 0xFFFF00, 0),
            ContextKind.Stride4 => Hash(k, c4 & 0xFF0000FF, 0),
            _ => Hash(k, 0, 0),
        };
    }

    // The byte in the same column of the previous line, or 0 past its end.
    private uint Above(ref TextState s, int pos)
    {
        int column = pos - s.LineStart;
        int previousLength = s.LineStart - s.PreviousLineStart;
        int index = s.PreviousLineStart + column;

        // index < LineStart <= pos always holds for the real state; the check only guards the look-ahead.
        return column < previousLength && index < _pos ? _history[index] : 0u;
    }

    // Starts loading the two groups the second nibble may use, one bit before it is known.
    private void PrefetchSecondNibble()
    {
        uint nibble = (uint)_c0 << 1;
        for (int i = 0; i < _hash.Length; i++)
        {
            Prefetch(Finalize(_hash[i] + (nibble * Mul2)));
            Prefetch(Finalize(_hash[i] + ((nibble | 1) * Mul2)));
        }
    }

    // Starts loading the groups (and the match slot) each possible next byte will use, one bit before it is known.
    private void PrefetchNextByte()
    {
        if (!Sse.IsSupported)
        {
            return;
        }

        for (int bit = 0; bit < 2; bit++)
        {
            byte c = (byte)((_c0 << 1) | bit);
            uint c8 = (_c8 << 8) | (_c4 >> 24);
            uint c4 = (_c4 << 8) | c;
            TextState text = _text;
            text.Update(c, _pos + 1, _preset.WordDigits);
            for (int i = 0; i < _kinds.Length; i++)
            {
                Prefetch(ContextHash(_kinds[i], c4, c8, ref text, _pos + 1));
            }

            _match.Prefetch(_pos + 1, c4, c8);
            _shortMatch?.Prefetch(_pos + 1, c4, c8);
        }
    }
}
