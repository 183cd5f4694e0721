namespace Z4Ai.Tests.Archival;

/// <summary>
/// Pinned values of archive format version 1 with context-mix model v1. Never regenerate these to make a failing
/// test pass: a mismatch means archives written earlier would no longer decode, so the model or primer version
/// must change instead.
/// </summary>
internal static class ArchiveGolden
{
    public const string SquashSha256 = "54e0bc43a47d53780c16c9c30d924591f5c7dabb606229ed80cfd8d41d16d63c";
    public const string StretchSha256 = "37bb0c123a5de20b1f8080af609951c28b342082bb990d6862f1f3553ef2b600";
    public const string BitHistorySha256 = "fc143fb158531818e8a70c3774ac4a0b1cc582273e95687b974e12b5e9e7cfd7";
    public const int BitHistoryStates = 231;

    // Frame 0: prose, primed, one model block. Frame 1: JSON without a primer in two blocks. Frame 2: code, primed.
    // Frame 3: 40 pseudo-random bytes, stored (no model, no primer in the header).
    public static readonly (byte[] Input, ArchiveOptions Options, string Hex)[] Frames =
    [
        (ArchiveTestData.Utf8(ArchiveTestData.Prose), new ArchiveOptions { Preset = ArchivePreset.Prose },
            "5a3441520101010301150f01011df7616c6d9eeb5500f6bbf8e6ad31d86493e7e3608f5fda3bab43646e470681bf0103bf01"
            + "271f543b1efbf3d1567d514d606af8befd4ad8cec886caf614feb35de66543933e81d7158a967fcb00bf014ecc8670caa7e6"
            + "d2b44c96a341bacbf83681f028164bd4c2927aec256c1a854c"),
        (ArchiveTestData.Repeat(ArchiveTestData.Json, 2), new ArchiveOptions { Preset = ArchivePreset.Json, UsePrimer = false, BlockSize = 200 },
            "5a3441520101010303100c00c80103c8018101a2ec2e8c736541f1a451bfd3cccc236ea2b0f5bbc4f3788b9f981d9ce9a5c5"
            + "74b95589393993145402fb7b102fa03ffd7f746c1658d616a1a88d183bc9ca21603f4ecec1f0bef894209fa5bc8fcfac9aca"
            + "9ef6c67538655423dc4cfd0434dae9d8552ea94841b5b91f086e0ea05596fc89df7c5bfbe17b1c4d3d609b4b01ec55b2037a"
            + "59df38b5a08185e741024f314fa817caefcc755daa2a7a40d834f9103247e29fbb0a105fae9385c44dffbe373cd13851bd9b"
            + "c01ce694b0e69cc1acdbe3c861f4e4fe970baeba177e11fdf1a977ebd0d2db384c3cf90313a2320500c202eb561ffb882d09"
            + "be1ae976708d245f87232e3ca524dc9a52a67d402e6bb1cd22"),
        (ArchiveTestData.Utf8(ArchiveTestData.Code), new ArchiveOptions { Preset = ArchivePreset.Code },
            "5a3441520101010302140f02015c72b1c3e4229e23afe60ee67b453539596de08642de3dbdab1321916d8a08e15d035d0d00"
            + "7063362579d05c6226c0934a005df25defb7cd3b03c23ffafd832437a3f62b4586eeb4e4f1c3b0c6222d4dbcc218"),
        (ArchiveTestData.Scrambled(40), new ArchiveOptions(),
            "5a34415201000028012828c83496966adfe058ca01d4727ded1955d63ae52e1730eee549fa506166327023982573740c5214"
            + "5c0028ff30fcca0dc786fdea1f5843b855c10ee8d5643765301b8d0f72678ed0e3810d"),
    ];

    public const string SymbolHex =
        "01010304100ca56d834d157250f39b9887c371aeaa63f72e02c46d706966b232e8e945a69f231f6a079b61ba76e5da222439"
        + "8159ac428a5d4412aee9c544dbec8ddd";

    public static byte[] SymbolInput()
    {
        byte[] data = new byte[300];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (byte)(120 + ((i * i) % 7) - ((i / 13) % 3));
        }

        return data;
    }

    public static readonly Dictionary<string, string> PrimerSha256 = new()
    {
        ["prose-v1"] = "1df7616c6d9eeb5500f6bbf8e6ad31d86493e7e3608f5fda3bab43646e470681",
        ["code-v1"] = "5c72b1c3e4229e23afe60ee67b453539596de08642de3dbdab1321916d8a08e1",
        ["json-v1"] = "3bcbcd3bdfeaf6b6b6cc9b09fb1ef967a753cef1bb9d6b7157e56af444946f8f",
    };
}
