using System.Runtime.Intrinsics.X86;
using NUnit.Framework;
using Z4Ai.Archival;

namespace Z4Ai.Tests.Archival;

/// <summary>The vector mixer kernels must equal the scalar oracle exactly: archives depend on every bit.</summary>
public class MixerTests
{
    private static readonly int[] AwkwardLengths = [0, 1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 511, 512, 513];

    private static short[] Random16(int length, Random random, int limit)
    {
        short[] values = new short[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (short)random.Next(-limit, limit + 1);
        }

        return values;
    }

    [Test]
    public void Dot_VectorPaths_EqualScalar([ValueSource(nameof(AwkwardLengths))] int length, [Values(2047, 32768)] int limit)
    {
        var random = new Random(length * 31 + limit);
        short[] x = Random16(length, random, limit == 32768 ? 32767 : limit);
        short[] w = Random16(length, random, 32767);
        if (limit == 32768 && length > 0)
        {
            x[0] = short.MinValue;
            w[0] = short.MinValue;
        }

        int expected = Mixer.DotScalar(ref Pin(x), ref Pin(w), length);
        if (Ssse3.IsSupported)
        {
            Assert.That(Mixer.DotVector128(ref Pin(x), ref Pin(w), length), Is.EqualTo(expected), "Vector128");
        }

        if (Avx2.IsSupported)
        {
            Assert.That(Mixer.DotVector256(ref Pin(x), ref Pin(w), length), Is.EqualTo(expected), "Vector256");
        }

        Assert.That(Mixer.Dot(ref Pin(x), ref Pin(w), length), Is.EqualTo(expected), "dispatch");
    }

    [Test]
    public void Train_VectorPaths_EqualScalar([ValueSource(nameof(AwkwardLengths))] int length, [Values(-30712, -1, 0, 5, 30712)] int err)
    {
        var random = new Random(length * 17 + err);
        short[] x = Random16(length, random, 2047);
        short[] w = Random16(length, random, 32767);
        if (length > 2)
        {
            w[1] = short.MaxValue;
            w[2] = short.MinValue;
        }

        short[] expected = (short[])w.Clone();
        Mixer.TrainScalar(ref Pin(x), ref Pin(expected), length, err);
        if (Ssse3.IsSupported)
        {
            short[] actual = (short[])w.Clone();
            Mixer.TrainVector128(ref Pin(x), ref Pin(actual), length, err);
            Assert.That(actual, Is.EqualTo(expected), "Vector128");
        }

        if (Avx2.IsSupported)
        {
            short[] actual = (short[])w.Clone();
            Mixer.TrainVector256(ref Pin(x), ref Pin(actual), length, err);
            Assert.That(actual, Is.EqualTo(expected), "Vector256");
        }
    }

    [Test]
    public void Mixer_LearnsWhichInputIsRight()
    {
        short[] inputs = new short[16];
        var mixer = new Mixer(inputs, 1, 6, 0);
        var random = new Random(3);
        for (int i = 0; i < 4000; i++)
        {
            int bit = random.Next(2);
            inputs[0] = (short)(bit == 1 ? 1000 : -1000);
            inputs[1] = (short)random.Next(-1000, 1001);
            mixer.Mix(0);
            mixer.Update(bit);
        }

        inputs[0] = 1000;
        inputs[1] = -1000;
        mixer.Mix(0);
        Assert.That(mixer.P, Is.GreaterThan(3500));
    }

    [Test]
    public void Constructor_InputLengthNotMultipleOf16_Throws() =>
        Assert.Throws<ArgumentException>(() => _ = new Mixer(new short[15], 1, 6, 0));

    private static ref short Pin(short[] array) => ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(array);
}
