using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Z4Ai.Archival;

/// <summary>
/// A small, fast model (model id 2): direct adaptive probabilities for order 0, order 1 and a 12-bit hash of
/// order 2, mixed by one gated mixer. Meant for short non-text streams (exponent or sign bytes of tensors),
/// where the full context-mixing model's text contexts cost time without paying for themselves.
/// </summary>
internal sealed class Order2Model : ISymbolModel
{
    /// <summary>The model id recorded in frames.</summary>
    public const byte ModelId = 2;

    /// <summary>The model version recorded in frames.</summary>
    public const byte ModelVersion = 1;

    private const int Order2Bits = 12;

    private readonly ushort[] _o0;
    private readonly ushort[] _o1;
    private readonly ushort[] _o2;
    private readonly short[] _inputs;
    private readonly Mixer _mixer;
    private readonly Apm _apm;
    private int _c0 = 1;
    private int _c1;
    private int _c2;
    private int _i0;
    private int _i1;
    private int _i2;

    /// <summary>Builds a fresh model.</summary>
    public Order2Model()
    {
        _o0 = new ushort[256];
        _o1 = new ushort[256 * 256];
        _o2 = new ushort[(1 << Order2Bits) * 256];
        _o0.AsSpan().Fill(32768);
        _o1.AsSpan().Fill(32768);
        _o2.AsSpan().Fill(32768);
        _inputs = new short[Mixer.PadInputs(4)];
        _mixer = new Mixer(_inputs, 256, 6, 1 << 13);
        _apm = new Apm(256 * 256, 7);
        Descriptor = new ModelDescriptor(ModelId, ModelVersion, []);
        SetIndexes();
    }

    private Order2Model(Order2Model other)
    {
        _o0 = (ushort[])other._o0.Clone();
        _o1 = (ushort[])other._o1.Clone();
        _o2 = (ushort[])other._o2.Clone();
        _inputs = (short[])other._inputs.Clone();
        _mixer = other._mixer.CloneOver(_inputs);
        _apm = other._apm.Clone();
        _c0 = other._c0;
        _c1 = other._c1;
        _c2 = other._c2;
        _i0 = other._i0;
        _i1 = other._i1;
        _i2 = other._i2;
        Descriptor = other.Descriptor;
    }

    /// <inheritdoc />
    public ModelDescriptor Descriptor { get; }

    /// <inheritdoc />
    public ISymbolModel Clone() => new Order2Model(this);

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
        _inputs[0] = (short)Logistic.Stretch(Get(_o0, _i0) >> 4);
        _inputs[1] = (short)Logistic.Stretch(Get(_o1, _i1) >> 4);
        _inputs[2] = (short)Logistic.Stretch(Get(_o2, _i2) >> 4);
        _inputs[3] = 256;
        _mixer.Mix(_c0);
        int p = (_mixer.P + (_apm.Refine(_mixer.P, _c0 | (_c1 << 8)) * 3) + 2) >> 2;
        return Math.Clamp(p, 1, 4095);
    }

    /// <inheritdoc />
    public void Update(int bit)
    {
        Adapt(_o0, _i0, bit, 5);
        Adapt(_o1, _i1, bit, 4);
        Adapt(_o2, _i2, bit, 4);
        _mixer.Update(bit);
        _apm.Update(bit);
        _c0 = (_c0 << 1) | bit;
        if (_c0 >= 256)
        {
            _c2 = _c1;
            _c1 = _c0 & 0xFF;
            _c0 = 1;
        }

        SetIndexes();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Get(ushort[] table, int index) => Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(table), index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Adapt(ushort[] table, int index, int bit, int shift)
    {
        ref ushort e = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(table), index);
        int target = bit == 0 ? 0 : 65535;
        e = (ushort)(e + ((target - e) >> shift));
    }

    private void SetIndexes()
    {
        _i0 = _c0;
        _i1 = (_c1 << 8) | _c0;
        int h = (int)((((uint)_c2 << 8 | (uint)_c1) * 0x9E3779B1u) >> (32 - Order2Bits));
        _i2 = (h << 8) | _c0;
    }
}
