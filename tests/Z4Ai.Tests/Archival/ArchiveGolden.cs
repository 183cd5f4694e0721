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
            + "26101a3a79d16aa38fc99e18420acde106f7dec9542c9a89679db9b5de88201c4167a41b7268ab00bf014ecc8670caa7e6d2"
            + "b44c96a341bacbf83681f028164bd4c2927aec256c1a854c"),
        (ArchiveTestData.Repeat(ArchiveTestData.Json, 2), new ArchiveOptions { Preset = ArchivePreset.Json, UsePrimer = false, BlockSize = 200 },
            "5a3441520101010303100c00c80103c8017e8a99d2ef4b6ace72fc85b29d1b109915f531b26fa9ab28a0dd286e744f513bf8"
            + "ba376278a209db98ea7214d514ff04940962fa9f1825f46706cdaf5a80d7dcc650e8147abdf1632d545ec8caeb03b7d95221"
            + "04090956ab6f7d42c3afb35848665544c63da7abe7e24f29608ee80b348781ee04bce9b5468b94f37a66031b037a57cd4713"
            + "6490834011822404dba6ee1b911ec481a0ec42157a435a4a6f503a4123fb3accdbd7fad61b3e22aa6e6221ab5e697dd9f517"
            + "e7f2c88dd4b7939b462ac254e00f4f2773147f988b0e8e45b58565d4fe14ba839ccc00c202eb561ffb882d09be1ae976708d"
            + "245f87232e3ca524dc9a52a67d402e6bb1cd22"),
        (ArchiveTestData.Utf8(ArchiveTestData.Code), new ArchiveOptions { Preset = ArchivePreset.Code },
            "5a34415201010103021711020121183479ea13a08de01c9427784593dbe12d59f0b9e490cf0ae5aa6a23aef79b5d035d0d00"
            + "83c98f40992502fd4a09aa6e005df25defb7cd3b03c23ffafd832437a3f62b4586eeb4e4f1c3b0c6222d4dbcc218"),
        (ArchiveTestData.Scrambled(40), new ArchiveOptions(),
            "5a34415201000028012828c83496966adfe058ca01d4727ded1955d63ae52e1730eee549fa506166327023982573740c5214"
            + "5c0028ff30fcca0dc786fdea1f5843b855c10ee8d5643765301b8d0f72678ed0e3810d"),
    ];

    public const string SymbolHex =
        "01010304100c8c5304c739b7941674faa284f4881f5619b8fa245df4fa3b677751478236b410dc3b31764b6ebb9da6b1b118"
        + "8aaf6f66b0a541b369adc095ed82b18a";

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
