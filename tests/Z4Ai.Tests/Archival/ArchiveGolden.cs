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
            "5a344152010101030117110101222a2ff661986f089dadc6bcda2da7866cae59d1f5b12e13d7f0dbc0aaa4cc08bf0103bf01"
            + "250ed4c3dbe77a2f571b9156f1e7c75ecce41905e30af0dc5121d49fd0249c23643a599c9d7800bf014ecc8670caa7e6d2b4"
            + "4c96a341bacbf83681f028164bd4c2927aec256c1a854c"),
        (ArchiveTestData.Repeat(ArchiveTestData.Json, 2), new ArchiveOptions { Preset = ArchivePreset.Json, UsePrimer = false, BlockSize = 200 },
            "5a3441520101010303100c00c80103c8018001a389da3890368bf3ce43a9ea8e2e2dec27d664b70cc94e613aa9dc24ef412a"
            + "d2a74f8bcfed148869456d878b956b9c42e40e6863f91cee06714b3f6f7d9e27092c25dfbe5574dfd7e94445811a3529faf1"
            + "c149cf9330072c3aa79e43b1d7ec067a92d07ccdb7e5cacaeff31dfd87ff547b5c980577da92c4865bcaa2c49b938d037a58"
            + "e0121279274acdda1469ce6a273d0cb44906767de66f6d3d13e4139c7ee2f1136dd82cf6f9b49fcc76a2d17c979559f3dda3"
            + "1357ad0e888b140242b5a52fbd0f784cc2668e77d2adc5cf8d9828199dd8bed59869ba05e87d00c202eb561ffb882d09be1a"
            + "e976708d245f87232e3ca524dc9a52a67d402e6bb1cd22"),
        (ArchiveTestData.Utf8(ArchiveTestData.Code), new ArchiveOptions { Preset = ArchivePreset.Code },
            "5a34415201010103021711020121183479ea13a08de01c9427784593dbe12d59f0b9e490cf0ae5aa6a23aef79b5d035d0d00"
            + "d884a410d4e6b5f4071deaa6005df25defb7cd3b03c23ffafd832437a3f62b4586eeb4e4f1c3b0c6222d4dbcc218"),
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
        ["prose-v1"] = "222a2ff661986f089dadc6bcda2da7866cae59d1f5b12e13d7f0dbc0aaa4cc08",
        ["code-v1"] = "21183479ea13a08de01c9427784593dbe12d59f0b9e490cf0ae5aa6a23aef79b",
        ["json-v1"] = "a9a04343a3ad546fc9ad7b57cdda7a28faa4acdaee4906aca0c1e0e1c8b6ea80",
    };
}
