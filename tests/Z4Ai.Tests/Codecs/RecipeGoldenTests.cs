using System.Buffers.Binary;
using NUnit.Framework;

namespace Z4Ai.Tests.Codecs;

/// <summary>
/// Golden frames: small fixed inputs, one per recipe, and the exact frame bytes they encode to at default effort.
/// A failure means the encoder's choices or a layout changed; the byte layouts are in docs/format.md ("Codec
/// recipes") and frames already written must keep decoding, so never "fix" this by pasting new bytes without
/// reading that section. Each golden frame also decodes back to its input.
/// </summary>
public class RecipeGoldenTests
{
    private static IEnumerable<TestCaseData> Cases()
    {
        const CompressionEffort fast = CompressionEffort.Fast;
        yield return Case("stored", DType.U8, Enumerable.Range(0, 40).Select(i => (byte)((i * 151) ^ 0x5A)).ToArray(), Golden.Stored);
        yield return Case("zstd", DType.U8, Enumerable.Range(0, 600).Select(i => (byte)(i % 7 * 30)).ToArray(), Golden.Zstd);
        yield return Case("rans-o0", DType.U8, Enumerable.Range(0, 200).Select(i => (byte)(i % 23 == 0 ? 9 : i % 5 == 0 ? 7 : 8)).ToArray(), Golden.Rans, fast);
        yield return Case("cm", DType.U8, Enumerable.Range(0, 200).Select(i => (byte)(i % 23 == 0 ? 9 : i % 5 == 0 ? 7 : 8)).ToArray(), Golden.ContextMixing);
        yield return Case("fields", DType.BF16, Bf16(Enumerable.Range(0, 96).Select(i => MathF.Sin(i * 0.7f) * MathF.Pow(2, i % 5))), Golden.Fields, fast);
        yield return Case("planes", DType.F16, F16(Enumerable.Range(0, 96).Select(i => MathF.Sin(i * 1.3f) * 0.02f)), Golden.Planes);
        yield return Case("deadbits", DType.F32, F32(Enumerable.Range(0, 64).Select(i => (float)(Half)(MathF.Cos(i * 0.9f) * 0.5f))), Golden.DeadBits);
        yield return Case("palette", DType.F32, F32(Enumerable.Range(0, 128).Select(i => ((int)((uint)(i * 2654435761u) >> 27) % 9 - 4) * 0.1f)), Golden.Palette);
        yield return Case("zeromask", DType.BF16, Bf16(Enumerable.Range(0, 128).Select(i => i % 3 == 0 ? MathF.Sin(i) : 0f)), Golden.ZeroMask);
        yield return Case("intpack", DType.I64, Integers(Enumerable.Range(0, 40).Select(i => 1000L + (3 * i)), 8), Golden.IntPack);
        yield return Case("negzero", DType.F32, F32(CodecSamples.Dequantise(CodecSamples.Weights(512, new Random(4)), 7, perRow: true)), Golden.NegativeZero, rowLength: 256);
        yield return Case("shift(", DType.F32, F32(AffineRows(24, 32)), Golden.GroupShift, rowLength: 32);
        yield return Case("delta(", DType.I32, Integers(SortedWithJumps(160), 4), Golden.Delta);
        yield return Case("boolpack", DType.BOOL, Enumerable.Range(0, 300).Select(i => (byte)(i % 7 == 0 ? 1 : 0)).ToArray(), Golden.BoolPack);
    }

    [TestCaseSource(nameof(Cases))]
    public void Encode_GoldenInput_GivesGoldenFrame(string recipe, DType dtype, byte[] raw, string expectedHex, CompressionEffort effort, int rowLength)
    {
        byte[] frame = CodecSamples.Encode(raw, dtype, effort, rowLength);
        TestContext.Out.WriteLine($"{recipe}: {CodecSamples.Recipe(frame)} {Convert.ToHexString(frame)}");
        Assert.That(CodecSamples.Recipe(frame), Does.Contain(recipe));
        Assert.That(Convert.ToHexString(frame), Is.EqualTo(expectedHex));
    }

    [TestCaseSource(nameof(Cases))]
    public void Decode_GoldenFrame_GivesGoldenInput(string recipe, DType dtype, byte[] raw, string expectedHex, CompressionEffort effort, int rowLength)
    {
        _ = rowLength;
        _ = recipe;
        _ = dtype;
        _ = effort;
        Assert.That(CodecSamples.Decode(Convert.FromHexString(expectedHex), raw.Length), Is.EqualTo(raw));
    }

    private static TestCaseData Case(string recipe, DType dtype, byte[] raw, string hex, CompressionEffort effort = CompressionEffort.Default, int rowLength = 0) =>
        new TestCaseData(recipe, dtype, raw, hex, effort, rowLength).SetArgDisplayNames(recipe.TrimEnd('('));

    // Non-zero INT4 codes times one scale per row of `columns`: exact products, so affine groups.
    private static IEnumerable<float> AffineRows(int rows, int columns)
    {
        var random = new Random(9);
        for (int r = 0; r < rows; r++)
        {
            float scale = 0.01f + (r * 0.00137f);
            for (int c = 0; c < columns; c++)
            {
                int code = Math.Clamp((int)Math.Round(2.5 * CodecSamples.Gaussian(random)), -7, 7);
                yield return (code == 0 ? 1 : code) * scale;
            }
        }
    }

    private static IEnumerable<long> SortedWithJumps(int count)
    {
        long value = 70000;
        for (int i = 0; i < count; i++)
        {
            value += i % 37 == 36 ? 100000 + i : 1 + ((i * 5) % 7);
            yield return value;
        }
    }

    private static byte[] Bf16(IEnumerable<float> values) => CodecSamples.Bf16(values.ToArray());

    private static byte[] F16(IEnumerable<float> values) => CodecSamples.F16(values.ToArray());

    private static byte[] F32(IEnumerable<float> values) => CodecSamples.F32(values.ToArray());

    private static byte[] Integers(IEnumerable<long> values, int size) => CodecSamples.Integers(values, size);

    /// <summary>The committed frames, hex.</summary>
    private static class Golden
    {
        public const string Stored = "00285ACD749F06A9D07BE215BC274EF118832A5DC46F9639A0CB72E50CB7DE41E813BA2D54FF6689305B";
        public const string Zstd = "01D80428B52FFD60580175000038001E3C5A7896B401004E541523";
        public const string Rans = "03C80102010474720E7CEF0200BA70DBFCDFA0073EE062CCF0C0DE6BDAF30C1C926FD200C100D200D200C2";
        public const string ContextMixing = "03C80102030400085DC499146FEFFB237FCD1019C71A439BA5DE0B195068476A6CC1";
        public const string Fields = 
            "03C001030E440128B52FFD2060D5010082840A0EB025E952CA94B60FC3300C53A005463A842D1106A43FCF0E98624C09"
            + "4EEB1476791759251BCA21E52005002034080D4283A00D0955066100004AF8BA5869BFF9451450FAB64679C3F73D1456"
            + "FCB23689C7F5379E5EFCAC2699CBF32F1464FEA816A7CFF129586AFEA204B7D3EF219C70FE9EE8C7D7EB1BE0760098C6"
            + "D7D9E913127C0094A6E5DDE70D3482008E84F5DFE305568600886203";
        public const string Planes = 
            "03C0010402610000EF470B86681D893DCD4D0D6AC23233C1730E4BCF3C8D1D63870949EF29EF450D856C1D853ECC500D"
            + "61C23035C17C0E49D13C921D5F87084BEE52F0430E85711D803ECA520D57C32E37C1860E47D23B961D5A88064DEE7EF0"
            + "411084751D7C3F3C0128B52FFD20609501008402002421A3A41C251EA4A3202518A4A2222498A5A023249EA59C2423A1"
            + "A40102032421A3A41C251EA40200801102463901";
        public const string DeadBits = 
            "038002051101750402410000F9453C2DBF1400DECB4A1D382EFFC228580DB148FDA76B65FD2962FB8AAD72ECA17BF96E"
            + "EE7FDA1894F651308AC81FADF2347196B50DC5ED16B1A0A2FBDCE9300128B52FFD2040350100B83834AFB7B7AE353734"
            + "B0B7B7ADB6ACB1B7B6ABAAA835370620B0D301430CDA27590DCA955B";
        public const string Palette = 
            "03800406110008092500CDCCCCBE9A9999BECDCC4CBECDCCCCBD00000000CDCCCC3DCDCC4C3E9A99993ECDCCCC3E3D02"
            + "030400008AE2FC0106475EB9932090BDB1A502AF2AC330CCF2648BE953870F69AA8A92E5A416072B5CC48E7596211826"
            + "3C87DC88100E82AB86C4ADAB";
        public const string ZeroMask = 
            "038002070E002A11004892244992244992244992244992244940030E11020307007E3C1F30EF9094E0CA22395C6F2B00"
            + "221FA6134C81ACD1EAFB00FDEED7B48B581FBE3956B5D7048F084378A5CAE7F801FEF1DABB92632AD752";
        public const string IntPack = "03C00208140100E8030000000000000300000000000000";
        public const string NegativeZero = 
            "0380100A11540C007A46DB633A850F0D7D2C0EE902061100081A630128B52FFD2068CD0200D2441115C03D3BF706EA94"
            + "FFC5109C539DF257CCEB6C4BF0B50940E9DADDD5ED4C195F13BA0F2D1CE509D1D4022180436C164F2D709EF043B33FB4"
            + "F8F3CA33657E6AF19792D7CA040904000E367C81BF950637F3DCE08EBB4FFE0102030580020B1730FC8C00F811A44826"
            + "10DAE1103E45BE1D77F9CE1487077BC5CE218207BC148F859DCF29F9749C362AB4DBAEE6FAA894B0D5F4DBD4A9D2D23E"
            + "016ED0FA048F5AC74CA6A1B1EC9EB7D3F5EE5EEAD3A8A29205E598496E61E5470125F2D40ABDE428DDD57BD635C0F452"
            + "F48A643F9F0581D283BF682F9FD6C64824BD78467AFE9CC2B496D836B89D83506505B2C1EED8F5D2C365F7613FD861B1"
            + "95BC3AD2A8F4B0366FB34DC0F8F067F675D519A0619CA8DE896078AA9DF113D0D6B4E181BDA285293323AA1FD8855F86"
            + "9235270BABA2B7A03687672C54632BC94C7E1CB68A791008EFF48BD8F6E66BD6B87D9CBB6B15FE0E003606472A00";
        public const string GroupShift = 
            "0380180611010818201819001713130F1B17130B17130F171713130F17170F0F13130F1361000AD7233C3C493A3C6EBB"
            + "503CA12D673CD39F7D3C02098A3C1C42953C357BA03C4EB4AB3C67EDB63C8026C23C9A5FCD3CB398D83CCCD1E33CE50A"
            + "EF3CFE43FA3C8CBE023D185B083DA4F70D3D3194133DBE30193D4ACD1E3DD769243D64062A3DE0020B20190001020203"
            + "0001020401020301010202030101030302020302C202020104073E56C2CB6600F9A6F4079661750BC768D82BF0B30200"
            + "F38D0D005183F438E46562BD0C3E6E752CEC51C52C4AD56911BEC98EFB46091832C88A2847E195F5682B56BB57E8237B"
            + "5AF4FD94520D753D9B7A3574135A8AEB7475EAB2D005FBDB910EFC9C599E7770BB55A204A546A8704112E314D85D3B88"
            + "1861AC9B96FD502CDEFFC572DE6A24DBD37CEFD20275752942E8F1A218C89A30BC02A0B2F7D8B73E53BA5224B4473B9C"
            + "402372A9DC1714E5600EE964469D958FCA7D95909151F30C4075274440EB3B4DA25778E56225386EF331EF6AE9DAFB62"
            + "A396CC6EB41E7E9138BC2011461F1AEF1A61F8152E7BE48634A61781CE850AA195677444E7A027E950ADB06D25AAEE82"
            + "A98FCA7DC31BC4B83BE950729671817B4312C3024FE34FE730289DA57E0A325D7F08D642AA131603447B2A47B9D84868"
            + "80B4808020AA40DC";
        public const string Delta = 
            "0380050C045504042702030800080158567E5CB5268CF70BFEBA26B24497495829D1EF1F372871FBB26AFB5B99F93235"
            + "11020305000008FFE34019598D6F4A4C38DD0E02030200005FEF10DEC10B5EAD06090203010000D70E7D58";
        public const string BoolPack = "03AC020900180128B52FFD20267500004081402010080402000100128B11";
    }
}
