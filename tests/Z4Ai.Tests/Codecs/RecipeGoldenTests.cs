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
        yield return Case("cm", DType.U8, Enumerable.Range(0, 200).Select(i => (byte)(i % 23 == 0 ? 9 : i % 5 == 0 ? 7 : 8)).ToArray(), Golden.ContextMixing, CompressionEffort.Max);
        yield return Case("fields", DType.BF16, Bf16(Enumerable.Range(0, 96).Select(i => MathF.Sin(i * 0.7f) * MathF.Pow(2, i % 5))), Golden.Fields, fast);
        yield return Case("planes", DType.F16, F16(Enumerable.Range(0, 96).Select(i => MathF.Sin(i * 1.3f) * 0.02f)), Golden.Planes);
        yield return Case("deadbits", DType.F32, F32(Enumerable.Range(0, 64).Select(i => (float)(Half)(MathF.Cos(i * 0.9f) * 0.5f))), Golden.DeadBits);
        yield return Case("palette", DType.F32, F32(RandomCodes(512, 9).Select(c => (c - 4) * 0.1f)), Golden.Palette);
        yield return Case("zeromask", DType.BF16, Bf16(CodecSamples.Prune(CodecSamples.Weights(512, new Random(12)), new Random(13), 2)), Golden.ZeroMask);
        yield return Case("intpack", DType.I64, Integers(Enumerable.Range(0, 40).Select(i => 1000L + (3 * i)), 8), Golden.IntPack);
        yield return Case("negzero", DType.F32, F32(CodecSamples.Dequantise(CodecSamples.Weights(512, new Random(4)), 7, perRow: true)), Golden.NegativeZero, rowLength: 256);
        yield return Case("shift(", DType.BF16, Bf16(TwoScaleRows(256)), Golden.GroupShift, rowLength: 256);
        yield return Case("rans-rows", DType.F32, F32(TwoSpreadRows(8, 64)), Golden.RowClasses, rowLength: 64);
        yield return Case("f32 scales", DType.BF16, Z4Ai.Tests.Transforms.PaletteTests.CodesThroughF32(DType.BF16, 6, 64, 7, 8), Golden.WideAffine, rowLength: 64);
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

    [Test]
    public void Decode_AffineRowsFrameWithGroupShift_GivesGoldenInput()
    {
        // Written before affine groups were aligned on one zero index by their c0 (the encoder then shifted their
        // indices with a GroupShift node instead); such frames must keep decoding.
        byte[] raw = F32(AffineRows(24, 32));
        Assert.That(CodecSamples.Recipe(Convert.FromHexString(Golden.AffineRowsGroupShift)), Does.Contain("indices:shift(32)"));
        Assert.That(CodecSamples.Decode(Convert.FromHexString(Golden.AffineRowsGroupShift), raw.Length), Is.EqualTo(raw));
    }

    [Test]
    public void Decode_FramesOfEarlierEncoderChoices_GiveGoldenInputs()
    {
        // Written before palette indices could take row classes, and before affine groups were aligned on one zero
        // index (their indices went through a GroupShift).
        byte[] negativeZero = F32(CodecSamples.Dequantise(CodecSamples.Weights(512, new Random(4)), 7, perRow: true));
        Assert.That(CodecSamples.Recipe(Convert.FromHexString(Golden.NegativeZeroOrder0)), Does.Contain("indices:rans-o0"));
        Assert.That(CodecSamples.Decode(Convert.FromHexString(Golden.NegativeZeroOrder0), negativeZero.Length), Is.EqualTo(negativeZero));
        byte[] wide = Z4Ai.Tests.Transforms.PaletteTests.CodesThroughF32(DType.BF16, 6, 64, 7, 8);
        Assert.That(CodecSamples.Recipe(Convert.FromHexString(Golden.WideAffineGroupShift)), Does.Contain("indices:shift(64)"));
        Assert.That(CodecSamples.Decode(Convert.FromHexString(Golden.WideAffineGroupShift), wide.Length), Is.EqualTo(wide));
    }

    [Test]
    public void Decode_WideAffineFrameWithMidpointScales_GivesGoldenInput()
    {
        byte[] raw = Z4Ai.Tests.Transforms.PaletteTests.CodesThroughF32(DType.BF16, 6, 64, 7, 8);
        Assert.That(CodecSamples.Decode(Convert.FromHexString(Golden.WideAffineMidpointScales), raw.Length), Is.EqualTo(raw));
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

    // Two rows of Gaussian weights whose scales are four octaves apart: the exponent stream shifts per row.
    private static float[] TwoScaleRows(int columns)
    {
        float[] w = CodecSamples.Weights(2 * columns, new Random(9));
        for (int i = columns; i < w.Length; i++)
        {
            w[i] *= 16;
        }

        return w;
    }

    // INT4 codes times one scale per row, rows alternately narrow and wide: affine groups aligned on one zero
    // index, whose indices take two row classes.
    private static IEnumerable<float> TwoSpreadRows(int rows, int columns)
    {
        var random = new Random(5);
        for (int r = 0; r < rows; r++)
        {
            float scale = 0.01f + (r * 0.00137f);
            double spread = r % 2 == 0 ? 0.8 : 3.5;
            for (int c = 0; c < columns; c++)
            {
                yield return Math.Clamp((int)Math.Round(spread * CodecSamples.Gaussian(random)), -7, 7) * scale;
            }
        }
    }

    private static IEnumerable<int> RandomCodes(int count, int levels)
    {
        var random = new Random(21);
        for (int i = 0; i < count; i++)
        {
            yield return Math.Min(random.Next(levels), random.Next(levels));
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
            "03801006110008092500CDCCCCBE9A9999BECDCC4CBECDCCCCBD00000000CDCCCC3DCDCC4C3E9A99993ECDCCCC3ED301"
            + "02010405484A254465999E040022080200B22E0100DD29AC638D61AA1206713FC395ADDF19716D03801D568264CFAE57"
            + "AEF87C8EECD50CC5E69A5809A73EEE2399FB8A211F86CD5C32E4C1BB06580E612A99E9465D96008724220BF512E6341F"
            + "80A5C4D2BDC72E510CBE598D2E01151B77102EF46A59D8575B7BCB2478486F1645E4CBFA4D7E819C9FE23562C95C0A2F"
            + "83D57A097F2C57280876D28A4E9FA6CD787CFAB6138E7542AF6E590D834B2E7C222A49B260C01E5AF59D27BF271A7AD8"
            + "7ADEA09B55A5C30630436F00E200B500B08071";
        public const string ZeroMask = 
            "038008070E0096024100E71D90EB51DC4E7022C6505FEFE3B236DC8FC3D61BACFFCF83FBFFC043B36919B968CBF9715A"
            + "63CF43AFC05C4792B13135DD2930E877289A5BC2A71DE7597E798903030E6D020107C6766C5D3645B62F86E6F7082A77"
            + "5A0A1A6AAE1EDAF908001EE5D4104BA2F35F4D845F43365C373E550C1677901D69A4F6B609B92140CD146B09A75581D7"
            + "9A72C036AF20636EB097E4FDEAB2E3338D838209CEF3D96B1BF866CE424EC97A5C17834BC00700B4407E800C97020030"
            + "E01D595B67626C96865FBAC42A1C569327D95913A67BC0CB61E2C409466F7F6CB3787C8859527896A85FBD9C44F7DF33"
            + "138B5DF2D54DA43AEE98509E5B8CAD4F1CA28AB314744D82334A64EBE88FAD3C0F5885185709369CE2778D634219F16D"
            + "6EA74FABDC2CFF8C7D46E46F01A99B6CD8363C3738157E0DA9308E0737ADD5EE316566585FE40B95203C7A28115ADEAA"
            + "7614D17902936AF6B468CD3374F33FC026C4E23A3A59D3370DD87D17F1951C35D02E0FB693211564D71E4D28D98D239B"
            + "AF0E1A5ED5A76CB48F295E20DD8EE0830D16BB91623EB68194031E5AA2C92A642BA140D09A84FC2A988FC66E617BB9B6"
            + "BE9F0C0C4372DEB45702AE6D492EBD19E329F0781CA80DE4FEADACED9B4576BDDCBC4D1FB1";
        public const string IntPack = "03C00208140100E8030000000000000300000000000000";
        public const string NegativeZero = 
            "0380100A11540C007A46DB633A850F0D7D2C0EDE02061100081A630128B52FFD2068CD0200D2441115C03D3BF706EA94"
            + "FFC5109C539DF257CCEB6C4BF0B50940E9DADDD5ED4C195F13BA0F2D1CE509D1D4022180436C164F2D709EF043B33FB4"
            + "F8F3CA33657E6AF19792D7CA040904000E367C81BF950637F3DCE08EBB4FF301020405800202000206F2B28727266223"
            + "262292E465245E2C2851D03EF449013E335C0EDC08DB050CA1351C26087607114DCDB65E0A6E0703A4701A831C0F0C6B"
            + "095F76C1DC74494DC2DF20FB22A7EF81349B95927D260C6C649C50370C402B6FF15AB70455C3BB2516463829832EE90C"
            + "C7BF83D28608BE032DB7B2D7013407FB2A88768D4580BDF1C1F2D9C3769B03BDBD8E855E1FF8CC098F4B2F81212BB567"
            + "818B8FA3ACC7EC4E964C0AE64891DBE517202446C90CC44F3C052DD3D0F2976938075298372BC91B9B6E6919584A97C6"
            + "26AF0911A9C26332F9ADCDE79C995D89618DE060C0CB7E2CEDD82EC05E8018C040C0CD";
        public const string NegativeZeroOrder0 = 
            "0380100A11540C007A46DB633A850F0D7D2C0E8903061100081A630128B52FFD2068CD0200D2441115C03D3BF706EA94"
            + "FFC5109C539DF257CCEB6C4BF0B50940E9DADDD5ED4C195F13BA0F2D1CE509D1D4022180436C164F2D709EF043B33FB4"
            + "F8F3CA33657E6AF19792D7CA040904000E367C81BF950637F3DCE08EBB4F9E0202010507F2641F1FF38A68DEF7797222"
            + "7B01FC412B02DD5D02002242CF004815CF094CD75778FCCC6B46F510D3C0AF197FE99451A67C1C294C36E45D55EB97EF"
            + "10B50B87269E9E2AEBBD4EA268CD8A98912DCBC3FCE72ADCF8B9E42982DEF9C8B5775C3679D18B6BAC0ED0C9985CCBCB"
            + "8C9603B5B68CF9FA69701A9FBAD2A766DEBD42076F36346988C16D869DC037EB01541F2F224B5A0A108C93615CF5F449"
            + "ED50879C8DB4F9354A915241B4B47E6E23952D5C2372ACD35814A40A44877946B24F15642A157F0F386D9C38309C0EBD"
            + "F999DF317E5C13E63D0148014B8B3F18082A3E2AC3ED03876FFD632B2918897A94AE7386E8C37C6F5F25661DE09EF150"
            + "BB426542C7B2DF9C2EA84DE164149C6CE8D99B0C30DD80DFA0CC407A40EB";
        public const string GroupShift = 
            "038008030EBD010B800203000804B40102010887A73025421209AD39C46570061A5E0100237B68273E8CEE0E4014D03F"
            + "6EFCAE98C105885621DAD5929B00895951106584627D08C7185C3C3E7920E191986E25DC3DF7572569176781F511CCEC"
            + "0D1385174B02BB08244E97662AECF8D7E96878636D775E9122F35F1C67ED06FC9A40A5079421C3694B537BACEA728F6A"
            + "714595BE7C321D2C64D2135C62601E5A51ACCE1A3D57DE76AF24CF4FA9A8DBEBA33EFDC9261B903337056AC980CD4066"
            + "203F600B8104003D43064F05ECB3273C14E8E1E5C5EAC8CC09B28E7BEB7B673CD90F98D65F3236DB2E76A8042468C8E9"
            + "671913F320957D29140A3711488BA4C14117E8B4DF305DA91606DDA99B4EAD2D3B869AEC4FFF7395CF135A6817381BB5"
            + "6C76A38AA3513161998FF262AEEB0AAA033E58DA31085F42AB02E7490C1875042BB0048D30DC9787F878A03388273E1D"
            + "A9F77ABF70E65D00A3E3F490ACED0BBF4905C931E26278817A36AAAD5CA41B5892D2A3C6AE1AE975CD0B47591D391D27"
            + "46B32E4E7B54BCFC16EFBD4E7ADB8D8F4362D0CCB3AF51BB160B7E73F46578A00682DD8FD0F158B6F52CD8573B1D0BC8"
            + "BFB746BC9A82D654367E3D9E1F473DA745CC98B19FC8B11ACD1DAC80FD0214DF4410089D57E3756E51046CAADD32F611"
            + "41CB231BE80C10C3412F8BEC2CE6495B3889251BD13025E40E66C389A20E84E91E87C1622920746189A4636735978B45"
            + "F796A2A646722A5DAD4C2AA94443AE92A42F384EE942D707DFB6058A6974157AC8310889C1A5140637DCC0E7E66FA8E3"
            + "1E5607112771910AC6151A373E12B4B534FEAABB7229EB588A236B5AC62F54EAFA5357CDEB520B0DB753B641C9376938"
            + "09C5692C8BD9FBD5B44681FA4DCD6E0D26195E8528F4FDDEDD65F718AD55FE4763DD3BCEBAC32C3D808A463F24D6965B"
            + "B0EE1FDC09FA2828F58EB81BB18D4FFD9771D83C30D1F01B752CE6654DD6F293493A4E36B8D031";
        public const string RowClasses = 
            "0380100611010808400809001B1B1B1B1B1B1B1B21000AD7233C3C493A3C6EBB503CA12D673CD39F7D3C02098A3C1C42"
            + "953C357BA03CD401020404400200AA56553CB1A014B86C9998B8A82CCCC506003EEBF82163EBBF022E190200729D578F"
            + "E40AFDB121344C441744B34BD4FF7C451261864937EF102315F01000F2AE539650A2B05D6B4FCEE9945942ABDB1EDDD8"
            + "1AE6F76273A51066D6C920A8459C1042FB1F929A44B6A6CB3BD207DD85F221554F5998D47179472979BDEC3C5B6E42DA"
            + "9D2A6A30AF7D157CED465E176748F738093E7F2B5A223529FD239EE3EDFAE1694F45A9E4728B368812604DAB7BB4300A"
            + "F47191378A2C7B393ED7BA86ACA2E5B255FC9752000A808180F980EE";
        public const string AffineRowsGroupShift = 
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
            "0380050C047604042C0128B52FFD20A015010098710C08040E0A0602880C08D2040E1C0A06660C0500C020C019C019A3"
            + "9C2BA670011A0128B52FFD20A08500003011000D000E0003400281A890421D10170128B52FFD20A06D00002001000300"
            + "020017A9143B000B130128B52FFD20A04D000010000001001B0A6001";
        public const string WideAffine = 
            "038006060E02080C40060700171717171717190000808C3B0000953B00C08A3B0000F53A0040663B0080F93AAF010201"
            + "04073DA24E3775CAADEC0425E49F087EA52D0DC889010052104800A88EA397F55B1D5BD7B17D2C81AC936BE09EBEC192"
            + "ECD4D39C00B6FA2675C718E6D126067D84AC945D87BC590455C5ABD8FD15BA15D890D904506A75E119A5CE95A21BD93C"
            + "C5CCD36A983034A2548245A2164621CE77E9708ECDBA2D4B41049BD575F4C3FF6BA75EFA87D856190FDBBCAA6782318B"
            + "FE0525130625CD5585E8ED690C32B3F1EB5253219340BF4011E0384090";
        public const string WideAffineGroupShift = 
            "038006060E02080C400607000F130B170F17190000808C3B0000953B00C08A3B0000F53A0040663B0080F93ABB010B40"
            + "0700020103000200AF01020104073DA24E3775CAADEC0425E49F087EA52D0DC889010052104800A88EA397F55B1D5BD7"
            + "B17D2C81AC936BE09EBEC192ECD4D39C00B6FA2675C718E6D126067D84AC945D87BC590455C5ABD8FD15BA15D890D904"
            + "506A75E119A5CE95A21BD93CC5CCD36A983034A2548245A2164621CE77E9708ECDBA2D4B41049BD575F4C3FF6BA75EFA"
            + "87D856190FDBBCAA6782318BFE0525130625CD5585E8ED690C32B3F1EB5253219340BF4011E0384090";
        // The same input as WideAffine, written before the encoder preferred the F32 scale with the fewest significant
        // bits (it took the middle of the interval); the layout is the same and such frames must keep decoding.
        public const string WideAffineMidpointScales = 
            "038006060E02080C400607000F130B170F171900AB6A8C3B9A19953B66A68A3B5515F53A0040663B6E9BF93ABB010B40"
            + "0700020103000200AF01020104073DA24E3775CAADEC0425E49F087EA52D0DC889010052104800A88EA397F55B1D5BD7"
            + "B17D2C81AC936BE09EBEC192ECD4D39C00B6FA2675C718E6D126067D84AC945D87BC590455C5ABD8FD15BA15D890D904"
            + "506A75E119A5CE95A21BD93CC5CCD36A983034A2548245A2164621CE77E9708ECDBA2D4B41049BD575F4C3FF6BA75EFA"
            + "87D856190FDBBCAA6782318BFE0525130625CD5585E8ED690C32B3F1EB5253219340BF4011E0384090";
        public const string BoolPack = "03AC020900180128B52FFD20267500004081402010080402000100128B11";
    }
}
