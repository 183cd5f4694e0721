using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Z4Ai.Archival;

/// <summary>
/// The archival context-mixing model (model id 1): order-0 and order-1 direct contexts, a preset's hashed
/// contexts (orders 2 to 8, words, columns, indentation, brackets, keys), a match model, two gated mixers and a
/// final mixer, then two adaptive probability maps. Integer arithmetic only.
/// </summary>
/// <remarks>
/// <para>Hashed contexts live in one table of 16-byte slots: a check byte and the 15 bit-history states of a
/// nibble's binary tree. Each context looks up a slot at the start of each nibble (the context hash plus the high
/// nibble when coding the low one), probing the four slots of one 64-byte group and replacing the least used on
/// a miss.</para>
/// <para>Each context contributes two mixer inputs from its state's adaptive probability p: stretch(p) and
/// (p - 2048) / 2. The match model follows the longest earlier occurrence of the last
/// <see cref="ContextMixPreset.MatchMinLength"/> bytes and predicts the bit that followed it, with a confidence
/// learned per match length.</para>
/// </remarks>
internal sealed class ContextMixModel : ISymbolModel
{
    /// <summary>The model id recorded in frames.</summary>
    public const byte ModelId = 1;

    /// <summary>The model version recorded in frames; any change to predictions requires a new version.</summary>
    public const byte ModelVersion = 1;

    private const uint Mul1 = 0x9E3779B1u;
    private const uint Mul2 = 0x85EBCA77u;
    private const uint Mul3 = 0xC2B2AE3Du;
    private const int MatchLimit = 65535;
    private const int MatchVerifyLimit = 512;

    private static readonly byte[] Priority = BuildPriority();

    private readonly ContextMixSettings _settings;
    private readonly ContextMixPreset _preset;
    private readonly ContextKind[] _kinds;

    // Tables: [hash slots][order-1: 65536][order-0: 256].
    private readonly byte[] _t;
    private readonly int _groupMask;
    private readonly int _o1Base;
    private readonly int _o0Base;

    // Per context (0 = order 0, 1 = order 1, then the hashed ones).
    private readonly int _contexts;
    private readonly int[] _ptr;
    private readonly int[] _slot;
    private readonly uint[] _hash;
    private readonly uint[] _sm;
    private readonly int[] _smIndex;

    // History.
    private byte[] _buffer;
    private int _pos;

    // Coding state.
    private int _c0 = 1;
    private int _bitPos;
    private uint _c4;
    private uint _c8;

    // Text state.
    private uint _word0;
    private uint _word1;
    private uint _word2;
    private int _lineStart;
    private int _previousLineStart;
    private int _indent;
    private bool _inIndent = true;
    private byte _lineFirst;
    private uint _bracketStack;
    private int _depth;
    private uint _keyHash;
    private uint _stringHash;
    private bool _inString;
    private uint _lastString;

    // Match model.
    private readonly int[] _matchTable;
    private readonly int _matchMask;
    private int _matchPtr;
    private int _matchLen;
    private int _matchByte;
    private int _matchBit;
    private readonly uint[] _matchSm;
    private int _matchSmIndex;

    // Mixing.
    private readonly short[] _inputs;
    private readonly int _stateLimit;
    private readonly Mixer _mixer0;
    private readonly Mixer _mixer1;
    private readonly Mixer _mixer2;
    private readonly short[] _finalInputs;
    private readonly Mixer _final;
    private readonly Apm _apm1;
    private readonly Apm _apm2;
    private readonly Apm _apm3;

    /// <summary>Builds a fresh model.</summary>
    /// <param name="settings">The preset and table sizes.</param>
    /// <param name="historyCapacity">The expected history length (primer plus data); the buffer grows if exceeded.</param>
    public ContextMixModel(ContextMixSettings settings, int historyCapacity)
    {
        _settings = settings;
        _preset = ContextMixPreset.Get(settings.Preset);
        _kinds = _preset.Contexts;
        string? ctxOverride = Environment.GetEnvironmentVariable("Z4AI_CTX");
        if (ctxOverride is not null)
        {
            _kinds = ctxOverride.Split(',').Select(x => (ContextKind)byte.Parse(x)).ToArray();
        }

        int tableBytes = 1 << settings.TableBits;
        _groupMask = (tableBytes >> 6) - 1;
        _o1Base = tableBytes;
        _o0Base = tableBytes + 65536;
        _t = new byte[tableBytes + 65536 + 256];

        _contexts = 2 + _kinds.Length;
        _ptr = new int[_contexts];
        _slot = new int[_kinds.Length];
        _hash = new uint[_kinds.Length];
        _sm = BuildStateMaps(_contexts);
        _smIndex = new int[_contexts];

        _buffer = new byte[Math.Max(256, historyCapacity)];
        _matchMask = (1 << settings.MatchBits) - 1;
        _matchTable = new int[1 << settings.MatchBits];
        _matchSm = new uint[64 * 2];
        for (int i = 0; i < _matchSm.Length; i++)
        {
            _matchSm[i] = 1u << 31;
        }

        _stateLimit = Tune.V[0] != 0 ? Tune.V[0] : _preset.StateLimit;
        int rate = Tune.V[1] != 0 ? Tune.V[1] : _preset.MixerRate;
        int apmRate = Tune.V[5] != 0 ? Tune.V[5] : 7;
        int inputCount = (_contexts * 2) + 3;
        _inputs = new short[Mixer.PadInputs(inputCount)];
        int initial = (1 << 14) / inputCount;
        _mixer0 = new Mixer(_inputs, 256, rate, initial);
        _mixer1 = new Mixer(_inputs, 34 * 8 + 256, rate, initial);
        _mixer2 = new Mixer(_inputs, 1024, rate, initial);
        _finalInputs = new short[Mixer.PadInputs(4)];
        _final = new Mixer(_finalInputs, 8, Tune.V[4] != 0 ? Tune.V[4] : 2, 5461);
        _apm1 = new Apm(256, apmRate);
        _apm2 = new Apm(65536, apmRate);
        _apm3 = new Apm(65536, apmRate);

        Descriptor = new ModelDescriptor(ModelId, ModelVersion, SettingsBytes(settings));
        StartByte();
    }

    private ContextMixModel(ContextMixModel o)
    {
        _settings = o._settings;
        _preset = o._preset;
        _kinds = o._kinds;
        _t = (byte[])o._t.Clone();
        _groupMask = o._groupMask;
        _o1Base = o._o1Base;
        _o0Base = o._o0Base;
        _contexts = o._contexts;
        _ptr = (int[])o._ptr.Clone();
        _slot = (int[])o._slot.Clone();
        _hash = (uint[])o._hash.Clone();
        _sm = (uint[])o._sm.Clone();
        _smIndex = (int[])o._smIndex.Clone();
        _buffer = (byte[])o._buffer.Clone();
        _pos = o._pos;
        _c0 = o._c0;
        _bitPos = o._bitPos;
        _c4 = o._c4;
        _c8 = o._c8;
        _word0 = o._word0;
        _word1 = o._word1;
        _word2 = o._word2;
        _lineStart = o._lineStart;
        _previousLineStart = o._previousLineStart;
        _indent = o._indent;
        _inIndent = o._inIndent;
        _lineFirst = o._lineFirst;
        _bracketStack = o._bracketStack;
        _depth = o._depth;
        _keyHash = o._keyHash;
        _stringHash = o._stringHash;
        _inString = o._inString;
        _lastString = o._lastString;
        _matchTable = (int[])o._matchTable.Clone();
        _matchMask = o._matchMask;
        _matchPtr = o._matchPtr;
        _matchLen = o._matchLen;
        _matchByte = o._matchByte;
        _matchBit = o._matchBit;
        _matchSm = (uint[])o._matchSm.Clone();
        _matchSmIndex = o._matchSmIndex;
        _inputs = (short[])o._inputs.Clone();
        _stateLimit = o._stateLimit;
        _mixer0 = o._mixer0.CloneOver(_inputs);
        _mixer1 = o._mixer1.CloneOver(_inputs);
        _mixer2 = o._mixer2.CloneOver(_inputs);
        _finalInputs = (short[])o._finalInputs.Clone();
        _final = o._final.CloneOver(_finalInputs);
        _apm1 = o._apm1.Clone();
        _apm2 = o._apm2.Clone();
        _apm3 = o._apm3.Clone();
        Descriptor = o.Descriptor;
    }

    /// <inheritdoc />
    public ModelDescriptor Descriptor { get; }

    /// <inheritdoc />
    public ISymbolModel Clone() => new ContextMixModel(this);

    /// <summary>The settings the model was built with.</summary>
    public ContextMixSettings Settings => _settings;

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
        ref byte t = ref MemoryMarshal.GetArrayDataReference(_t);
        ref uint sm = ref MemoryMarshal.GetArrayDataReference(_sm);
        ref short inputs = ref MemoryMarshal.GetArrayDataReference(_inputs);
        int known = 0;
        for (int i = 0; i < _contexts; i++)
        {
            int state = Unsafe.Add(ref t, _ptr[i]);
            known += state != 0 ? 1 : 0;
            int index = (i << 8) | state;
            _smIndex[i] = index;
            int p = (int)(Unsafe.Add(ref sm, index) >> 20);
            Unsafe.Add(ref inputs, i * 2) = (short)Logistic.Stretch(p);
            Unsafe.Add(ref inputs, (i * 2) + 1) = (short)(Tune.V[2] == 0 ? (p - 2048) >> 1 : 0);
        }

        int k = _contexts * 2;
        int expected = 0;
        if (_matchLen > 0)
        {
            int predictedPrefix = (_matchByte | 256) >> (8 - _bitPos);
            if (predictedPrefix == _c0)
            {
                expected = ((_matchByte >> (7 - _bitPos)) & 1) + 1;
            }
            else
            {
                _matchLen = 0;
            }
        }

        _matchBit = expected;
        if (expected != 0)
        {
            int lenBucket = LengthBucket(_matchLen);
            _matchSmIndex = (lenBucket << 1) | (expected - 1);
            int p = (int)(_matchSm[_matchSmIndex] >> 20);
            int st = Logistic.Stretch(p);
            Unsafe.Add(ref inputs, k) = (short)st;
            int strength = Math.Min(_matchLen, 31) << 6;
            Unsafe.Add(ref inputs, k + 1) = (short)(expected == 2 ? strength : -strength);
        }
        else
        {
            _matchSmIndex = -1;
            Unsafe.Add(ref inputs, k) = 0;
            Unsafe.Add(ref inputs, k + 1) = 0;
        }

        Unsafe.Add(ref inputs, k + 2) = 256;

        int c1 = (int)(_c4 & 0xFF);
        int matchCtx = expected == 0 ? 0 : ((Math.Min(LengthBucket(_matchLen) >> 1, 15) << 1) | (expected - 1)) + 1;
        int s0 = _mixer0.Mix(_c0);
        int s1 = Tune.V[7] switch
        {
            1 => _mixer1.Mix((matchCtx << 3) | Math.Min(known, 7)),
            2 => _mixer1.Mix((Math.Min(known, 15) << 4) | (Math.Min(matchCtx, 15))),
            _ => _mixer1.Mix((matchCtx << 3) | _bitPos),
        };
        int s2 = _mixer2.Mix((c1 << 2) | (_bitPos >> 1));
        _finalInputs[0] = (short)s0;
        _finalInputs[1] = (short)s1;
        _finalInputs[2] = (short)s2;
        _finalInputs[3] = 256;
        _final.Mix(_bitPos);
        int pm = _final.P;

        int a1 = _apm1.Refine(pm, _c0);
        int a2 = _apm2.Refine(pm, _c0 | (c1 << 8));
        uint h2 = ((_c4 & 0xFFFF) * Mul1) >> 16;
        int a3 = _apm3.Refine(pm, (int)((h2 ^ (uint)(_c0 * 0x1F3)) & 0xFFFF));
        int pr = Tune.V[3] switch
        {
            1 => (pm + a2 + 1) >> 1,
            2 => (pm + a1 + a2 + a3 + 2) >> 2,
            3 => ((pm * 2) + (a2 * 3) + (a3 * 3) + 4) >> 3,
            4 => pm,
            _ => ((pm * 2) + a1 + (a2 * 3) + (a3 * 2) + 4) >> 3,
        };
        return Math.Clamp(pr, 1, 4095);
    }

    /// <inheritdoc />
    public void Update(int bit)
    {
        ref byte t = ref MemoryMarshal.GetArrayDataReference(_t);
        ref uint sm = ref MemoryMarshal.GetArrayDataReference(_sm);
        for (int i = 0; i < _contexts; i++)
        {
            ref byte node = ref Unsafe.Add(ref t, _ptr[i]);
            node = BitHistory.Next(node, bit);
            UpdateState(ref Unsafe.Add(ref sm, _smIndex[i]), bit, _stateLimit);
        }

        if (_matchSmIndex >= 0)
        {
            UpdateState(ref _matchSm[_matchSmIndex], bit, 1023);
        }

        _mixer0.Update(bit);
        _mixer1.Update(bit);
        _mixer2.Update(bit);
        _final.Update(bit);
        _apm1.Update(bit);
        _apm2.Update(bit);
        _apm3.Update(bit);

        _c0 = (_c0 << 1) | bit;
        _bitPos++;
        if (_bitPos == 8)
        {
            EndByte((byte)_c0);
            StartByte();
        }
        else if (_bitPos == 4)
        {
            uint nibble = (uint)_c0;
            for (int i = 0; i < _kinds.Length; i++)
            {
                _slot[i] = Find(Finalize(_hash[i] + (nibble * Mul2)));
            }

            SetPointers();
        }
        else
        {
            SetPointers();
        }
    }

    private static byte[] SettingsBytes(ContextMixSettings settings)
    {
        byte[] bytes = new byte[ContextMixSettings.Length];
        settings.Write(bytes);
        return bytes;
    }

    private static uint[] BuildStateMaps(int contexts)
    {
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

    // Reciprocal step 2^17 / (2n + 3): the first visits move far, later ones settle.
    private static readonly int[] Rates = BuildRates();

    private static int[] BuildRates()
    {
        var rates = new int[1024];
        for (int n = 0; n < rates.Length; n++)
        {
            rates[n] = (1 << 17) / ((2 * n) + 3);
        }

        return rates;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void UpdateState(ref uint entry, int bit, int limit)
    {
        uint v = entry;
        int n = (int)(v & 1023);
        int p = (int)(v >> 10);
        p += (int)(((long)((bit << 22) - p) * Rates[n]) >> 17);
        if (n < limit)
        {
            n++;
        }

        entry = ((uint)p << 10) | (uint)n;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int LengthBucket(int length) => length switch
    {
        < 16 => length,
        < 32 => 16 + ((length - 16) >> 2),
        < 64 => 20 + ((length - 32) >> 3),
        < 512 => 24 + ((length - 64) >> 6),
        _ => 31,
    };

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

    // Returns the table offset of the slot for hash h: the matching slot of its group, or the least used one,
    // cleared and claimed.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Find(uint h)
    {
        ref byte t = ref MemoryMarshal.GetArrayDataReference(_t);
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

        _t.AsSpan(best, 16).Clear();
        _t[best] = check;
        return best;
    }

    private void SetPointers()
    {
        int c0 = _c0;
        int nibbleNode = _bitPos < 4 ? c0 : ((c0 & ((1 << (_bitPos - 4)) - 1)) | (1 << (_bitPos - 4)));
        _ptr[0] = _o0Base + c0;
        _ptr[1] = _o1Base + (int)((_c4 & 0xFF) << 8) + c0;
        for (int i = 0; i < _kinds.Length; i++)
        {
            _ptr[i + 2] = _slot[i] + nibbleNode;
        }
    }

    private void StartByte()
    {
        _c0 = 1;
        _bitPos = 0;
        for (int i = 0; i < _kinds.Length; i++)
        {
            _hash[i] = ContextHash(_kinds[i]);
        }

        for (int i = 0; i < _kinds.Length; i++)
        {
            _slot[i] = Find(_hash[i]);
        }

        SetPointers();
    }

    private uint ContextHash(ContextKind kind)
    {
        uint c4 = _c4;
        uint c1 = c4 & 0xFF;
        uint k = (uint)kind;
        switch (kind)
        {
            case ContextKind.Order2:
                return Hash(k, c4 & 0xFFFF, 0);
            case ContextKind.Order3:
                return Hash(k, c4 & 0xFFFFFF, 0);
            case ContextKind.Order4:
                return Hash(k, c4, 0);
            case ContextKind.Order5:
                return Hash(k, c4, _c8 & 0xFF);
            case ContextKind.Order6:
                return Hash(k, c4, _c8 & 0xFFFF);
            case ContextKind.Order8:
                return Hash(k, c4, _c8);
            case ContextKind.Word:
                return _word0 != 0 ? Hash(k, _word0, 0) : Hash(k, _word1, c1 | 0x100);
            case ContextKind.WordPair:
                return Hash(k, _word0 ^ (_word1 * Mul3), _word0 != 0 ? 0 : c1 | 0x100);
            case ContextKind.WordTriple:
                return Hash(k, _word0 ^ (_word1 * Mul3), _word2);
            case ContextKind.Column:
                return Hash(k, Above(), c1);
            case ContextKind.ColumnPosition:
                return Hash(k, Above(), (uint)Math.Min(_pos - _lineStart, 255));
            case ContextKind.Indent:
                return Hash(k, (uint)Math.Min(_indent, 255) | ((uint)_lineFirst << 8), c1 | ((uint)(_inIndent ? 1 : 0) << 8));
            case ContextKind.Bracket:
                return Hash(k, (_bracketStack & 0xFF) | ((uint)Math.Min(_depth, 63) << 8), c1);
            case ContextKind.Key:
                return Hash(k, _keyHash ^ ((uint)Math.Min(_depth, 63) * Mul1), _inString ? c1 | 0x100 : c1);
            case ContextKind.Skip1:
                return Hash(k, c4 & 0xFF00, 0);
            case ContextKind.Skip2:
                return Hash(k, c4 & 0xFFFF00, 0);
            case ContextKind.Stride4:
                return Hash(k, c4 & 0xFF0000FF, 0);
            case ContextKind.CoarseOrder2:
                return Hash(k, c4 & 0xF0F0, 0);
            default:
                return Hash(k, 0, 0);
        }
    }

    private uint Above()
    {
        int column = _pos - _lineStart;
        int previousLength = _lineStart - _previousLineStart;
        return column < previousLength ? _buffer[_previousLineStart + column] : 0u;
    }

    private bool IsWordByte(int c) =>
        (uint)((c | 0x20) - 'a') < 26u || c >= 128 || (_preset.WordDigits && ((uint)(c - '0') < 10u || c == '_'));

    private void EndByte(byte c)
    {
        if (_pos == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        _buffer[_pos++] = c;
        _c8 = (_c8 << 8) | (_c4 >> 24);
        _c4 = (_c4 << 8) | c;

        UpdateText(c);
        UpdateMatch(c);
    }

    private void UpdateText(byte c)
    {
        if (IsWordByte(c))
        {
            int folded = (uint)(c - 'A') < 26u ? c + 32 : c;
            _word0 = (_word0 + (uint)folded + 1) * 0x2F0B4C6Du;
            if (_word0 == 0)
            {
                _word0 = 1;
            }
        }
        else if (_word0 != 0)
        {
            _word2 = _word1;
            _word1 = _word0;
            _word0 = 0;
        }

        if (c == (byte)'\n')
        {
            _previousLineStart = _lineStart;
            _lineStart = _pos;
            _indent = 0;
            _inIndent = true;
            _lineFirst = 0;
        }
        else if (_inIndent)
        {
            if (c is (byte)' ' or (byte)'\t')
            {
                _indent++;
            }
            else
            {
                _inIndent = false;
                _lineFirst = c;
            }
        }

        switch (c)
        {
            case (byte)'"' when !_inString:
                _inString = true;
                _stringHash = 0;
                break;
            case (byte)'"':
                _inString = false;
                _lastString = _stringHash;
                break;
            case (byte)':' when !_inString:
                _keyHash = _lastString;
                break;
            case (byte)'(' or (byte)'[' or (byte)'{' when !_inString:
                _bracketStack = (_bracketStack << 8) | c;
                _depth++;
                break;
            case (byte)')' or (byte)']' or (byte)'}' when !_inString:
                _bracketStack >>= 8;
                _depth = Math.Max(0, _depth - 1);
                break;
            case (byte)',' when !_inString:
                break;
            default:
                if (_inString)
                {
                    _stringHash = (_stringHash + c + 1) * 0x01000193u;
                }

                break;
        }
    }

    private void UpdateMatch(byte c)
    {
        int minLength = _preset.MatchMinLength;
        if (_matchLen > 0 && _matchPtr < _pos - 1 && _buffer[_matchPtr] == c)
        {
            _matchPtr++;
            if (_matchLen < MatchLimit)
            {
                _matchLen++;
            }
        }
        else
        {
            _matchLen = 0;
        }

        if (_pos < minLength)
        {
            return;
        }

        uint h = 0;
        for (int i = _pos - minLength; i < _pos; i++)
        {
            h = (h + _buffer[i] + 1) * Mul1;
        }

        int slot = (int)(Finalize(h) & (uint)_matchMask);
        if (_matchLen == 0)
        {
            int candidate = _matchTable[slot];
            if (candidate > 0)
            {
                int length = 0;
                while (length < MatchVerifyLimit && length < candidate && _buffer[candidate - 1 - length] == _buffer[_pos - 1 - length])
                {
                    length++;
                }

                if (length >= minLength)
                {
                    _matchLen = length;
                    _matchPtr = candidate;
                }
            }
        }

        _matchTable[slot] = _pos;
        _matchByte = _matchLen > 0 ? _buffer[_matchPtr] : 0;
    }
}
