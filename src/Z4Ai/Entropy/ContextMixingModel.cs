using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Z4Ai.Entropy;

/// <summary>
/// The bit predictor of the context-mixing coder: several adaptive context models, each giving a probability for
/// the next binary decision, combined by a gated logistic mixer. Encoder and decoder drive identical instances
/// with identical calls, so every prediction, and therefore the stream, is defined by this integer code.
/// </summary>
/// <remarks>
/// <para>Contexts of symbol i (symbols before i only): c1 = s[i−1], c2 = s[i−2], c3 = s[i−3]; when the row length r
/// is known, "above" = s[i−r] (the same column one row up: columns of a weight matrix share a scale) and the
/// position in the row; and a running mean of recent symbols (rows of a weight matrix share a scale). Models:
/// (node), (c1), (c1, c2), (c1, above) or (c1, c2, c3) without rows, (mean, c1), (above, position bucket, c2)
/// or (mean) without rows. Contexts with small domains index their tables directly; the others are hashed with
/// the node into tables sized from the symbol count.</para>
/// <para>Each slot is a 32-bit counter: a 22-bit probability and a 10-bit hit count; the probability moves towards
/// each observed bit by 1/(count + 1.5), so new contexts learn fast and busy ones settle. The mixer keeps one
/// weight vector per node and learns by gradient steps on coding cost in the logistic domain.</para>
/// </remarks>
internal sealed class ContextMixingModel
{
    private const int Models = 6;
    private const int Inputs = Models + 1;
    private const int CountLimit = 1023;
    private const int MixerShift = 20;
    private const int LearningRate = 2;
    private const uint InitialCounter = 1u << 31;
    private const int LineNodes = 16;


    // Reciprocal[n] = 2^17 / (2n + 3): the step 1/(n + 1.5) in Q16.
    private static readonly int[] s_reciprocal = BuildReciprocals();

    private readonly int _bits;
    private readonly int _nodeCount;
    private readonly int _rowLength;
    private readonly int _hashShift;
    private readonly uint[] _order0;
    private readonly uint[] _order1;
    private readonly uint[] _hashed;
    private readonly int _hashSize;
    private readonly int[] _weights;
    private readonly uint[] _contextHash = new uint[Models];
    private readonly int[] _slot = new int[Models];
    private readonly int[] _stretch = new int[Inputs];
    private int _mean;
    private int _c1;
    private int _weightBase;
    private int _mixed;

    /// <summary>Creates a model for <paramref name="symbolCount"/> symbols of <paramref name="bits"/> bits.</summary>
    public ContextMixingModel(int symbolCount, int bits, int rowLength)
    {
        _bits = bits;
        _nodeCount = 2 << bits;
        _rowLength = rowLength;

        // Hashed tables scale with the input (about two slots per symbol, 2^12..2^20 each) so small inputs stay cheap.
        int tableBits = Math.Clamp(64 - BitOperations.LeadingZeroCount((ulong)symbolCount) + 1, 12, 20);
        _hashSize = 1 << tableBits;
        _hashShift = 32 - tableBits;
        _order0 = NewCounters(_nodeCount);
        _order1 = NewCounters(_nodeCount << bits);
        _hashed = NewCounters((Models - 2) * _hashSize);
        _weights = new int[_nodeCount * Inputs];
        for (int i = 0; i < _weights.Length; i++)
        {
            // Start as the average of the models (the bias input at zero), the safest guess before any training.
            _weights[i] = i % Inputs == Models ? 0 : (1 << MixerShift) / Models;
        }
        _mean = 0;
        _stretch[Models] = 256;

    }

    /// <summary>Sets the contexts for symbol <paramref name="index"/>; <paramref name="history"/> holds the symbols before it.</summary>
    public void BeginSymbol(ReadOnlySpan<byte> history, int index)
    {
        int c1 = index >= 1 ? history[index - 1] : 0;
        int c2 = index >= 2 ? history[index - 2] : 0;
        int c3 = index >= 3 ? history[index - 3] : 0;
        int mean = _mean >> 6;
        _c1 = c1;
        _contextHash[2] = Hash(1, (uint)c1, (uint)c2, 0);
        _contextHash[4] = Hash(3, (uint)mean, (uint)c1, 0);
        if (_rowLength > 0)
        {
            int above = index >= _rowLength ? history[index - _rowLength] : 256;
            int column = index % _rowLength;
            int bucket = column < 8 ? column : 8 + (BitOperations.Log2((uint)column) - 3);
            _contextHash[3] = Hash(2, (uint)c1, (uint)above, 0);
            _contextHash[5] = Hash(4, (uint)above, (uint)bucket, (uint)c2);
        }
        else
        {
            _contextHash[3] = Hash(2, (uint)c1, (uint)c2, (uint)c3);
            _contextHash[5] = Hash(4, (uint)mean, 0, 0);
        }
    }

    /// <summary>Updates the running state after symbol <paramref name="symbol"/> has been coded.</summary>
    public void EndSymbol(int symbol) => _mean += ((symbol << 8) - _mean) >> 3;

    /// <summary>Returns the 12-bit probability, in [1, 4095], that the decision at <paramref name="node"/> is 1.</summary>
    public int Predict(int node)
    {
        // Indices below are in range by construction (node < node count, c1 < alphabet, hashed slots masked to
        // their table, counters' top 12 bits < 4096), so the hot path reads without bounds checks.
        ref uint order0 = ref MemoryMarshal.GetArrayDataReference(_order0);
        ref uint order1 = ref MemoryMarshal.GetArrayDataReference(_order1);
        ref uint hashed = ref MemoryMarshal.GetArrayDataReference(_hashed);
        ref int slots = ref MemoryMarshal.GetArrayDataReference(_slot);
        ref int stretch = ref MemoryMarshal.GetArrayDataReference(_stretch);
        ref uint contextHash = ref MemoryMarshal.GetArrayDataReference(_contextHash);

        int slot1 = (_c1 * _nodeCount) + node;
        slots = node;
        Unsafe.Add(ref slots, 1) = slot1;
        stretch = Stretch(Unsafe.Add(ref order0, node));
        Unsafe.Add(ref stretch, 1) = Stretch(Unsafe.Add(ref order1, slot1));

        // The first 16 nodes of a context (the unary decisions and the short mantissas, nearly every decision)
        // share one 64-byte line, so a symbol touches one line per model; rarer nodes are hashed on their own.
        uint nodeHash = node < LineNodes ? 0 : (uint)node * 0x9E3779B1u;
        int lineOffset = node & (LineNodes - 1);
        for (int m = 2; m < Models; m++)
        {
            uint h = ((Unsafe.Add(ref contextHash, m) ^ nodeHash) * 0x85EBCA77u) >> _hashShift;
            int slot = ((m - 2) * _hashSize) + (int)(h & ~(uint)(LineNodes - 1)) + lineOffset;
            Unsafe.Add(ref slots, m) = slot;
            Unsafe.Add(ref stretch, m) = Stretch(Unsafe.Add(ref hashed, slot));
        }

        _weightBase = node * Inputs;
        ref int weights = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_weights), _weightBase);
        long dot = 0;
        for (int i = 0; i < Inputs; i++)
        {
            dot += (long)Unsafe.Add(ref weights, i) * Unsafe.Add(ref stretch, i);
        }

        _mixed = LogisticTables.Squash((int)Math.Clamp(dot >> MixerShift, -2047, 2047));
        return _mixed;
    }

    /// <summary>Trains every model and the mixer on the coded <paramref name="bit"/>.</summary>
    public void Update(int bit)
    {
        ref int slots = ref MemoryMarshal.GetArrayDataReference(_slot);
        ref uint hashed = ref MemoryMarshal.GetArrayDataReference(_hashed);
        Train(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_order0), slots), bit);
        Train(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_order1), Unsafe.Add(ref slots, 1)), bit);
        for (int m = 2; m < Models; m++)
        {
            Train(ref Unsafe.Add(ref hashed, Unsafe.Add(ref slots, m)), bit);
        }

        // Weights are Q20 and the step is rounded, not floored: a floored step drifts every weight downwards, which
        // at this small learning rate costs more than the mixing gains.
        int error = ((bit << 12) - _mixed) * LearningRate;
        ref int weights = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_weights), _weightBase);
        ref int stretch = ref MemoryMarshal.GetArrayDataReference(_stretch);
        for (int i = 0; i < Inputs; i++)
        {
            Unsafe.Add(ref weights, i) += ((Unsafe.Add(ref stretch, i) * error) + (1 << 9)) >> 10;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Stretch(uint counter) => LogisticTables.Stretch((int)(counter >> 20));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Train(ref uint counter, int bit)
    {
        uint e = counter;
        int n = (int)(e & 1023);
        int p = (int)(e >> 10);
        int target = bit != 0 ? (1 << 22) - 1 : 0;
        p += (int)(((long)(target - p) * Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(s_reciprocal), n)) >> 16);
        counter = ((uint)p << 10) | (uint)(n < CountLimit ? n + 1 : n);
    }

    private static uint Hash(uint model, uint a, uint b, uint c) =>
        ((((model * 0x2F0B3A49u) + a) * 0x9E3779B1u) + b) * 0x85EBCA6Bu + (c * 0xC2B2AE35u);

    private static uint[] NewCounters(int length)
    {
        uint[] table = new uint[length];
        table.AsSpan().Fill(InitialCounter);
        return table;
    }

    private static int[] BuildReciprocals()
    {
        int[] table = new int[1024];
        for (int n = 0; n < table.Length; n++)
        {
            table[n] = (1 << 17) / ((2 * n) + 3);
        }

        return table;
    }
}
