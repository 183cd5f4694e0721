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
            + "260fdcd6a315b0636ad7ae259ef3a70bd7a1178a011ae04d815d0d55b6afae9102fb1ae30ec5dd00bf014ecc8670caa7e6d2"
            + "b44c96a341bacbf83681f028164bd4c2927aec256c1a854c"),
        (ArchiveTestData.Repeat(ArchiveTestData.Json, 2), new ArchiveOptions { Preset = ArchivePreset.Json, UsePrimer = false, BlockSize = 200 },
            "5a3441520101010303100c00c80103c8017b8a9b211ef3f34c0c333cc71ffbae8cc5b49cdfb6b2f352d276b6166c3e290dc0"
            + "dce5bd4c6b1c80f8cdc1e0b2f9c99e61ea5db6c775adc643f614946c678cf46e6d60db96c1ce2d1d29c11da345880800d61a"
            + "fcc14019ee05850cf3d9eed9f439a0adfa24354462df3bb0eb01952a2d01301d04645450f48301abd8037a56cd36c458516d"
            + "6f5bf681aea46cbdcb28e7a6f948b342d39348639540b8a3fa7fbc23d08c3ebb9f0d9f1dbee3b869dbb8e8cd636f994942c8"
            + "bded950d9878ca34d0013837875e235a5e6e32e3d047cec199d88b759b6900c202eb561ffb882d09be1ae976708d245f8723"
            + "2e3ca524dc9a52a67d402e6bb1cd22"),
        (ArchiveTestData.Utf8(ArchiveTestData.Code), new ArchiveOptions { Preset = ArchivePreset.Code },
            "5a34415201010103021711020121183479ea13a08de01c9427784593dbe12d59f0b9e490cf0ae5aa6a23aef79b5d035d0c00"
            + "6588f0610deda36e02b72e005df25defb7cd3b03c23ffafd832437a3f62b4586eeb4e4f1c3b0c6222d4dbcc218"),
        (ArchiveTestData.Scrambled(40), new ArchiveOptions(),
            "5a34415201000028012828c83496966adfe058ca01d4727ded1955d63ae52e1730eee549fa506166327023982573740c5214"
            + "5c0028ff30fcca0dc786fdea1f5843b855c10ee8d5643765301b8d0f72678ed0e3810d"),
    ];

    public const string SymbolHex =
        "01010304100c8c5318579e161075f043d6eb83b6a31aaec2134cde323ac3d1e380b706d8af92351a0b5b02748d439ae6a85d"
        + "ca26c3dd3c080e82e7c00ee067";

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
