namespace Z4Ai.Tests.Archival;

/// <summary>
/// Pinned values of archive format version 1 with context-mix models v1 to v3. Never regenerate these to make a
/// failing test pass: a mismatch means archives written earlier would no longer decode, so the model or primer
/// version must change instead.
/// </summary>
internal static class ArchiveGolden
{
    public const string SquashSha256 = "54e0bc43a47d53780c16c9c30d924591f5c7dabb606229ed80cfd8d41d16d63c";
    public const string StretchSha256 = "37bb0c123a5de20b1f8080af609951c28b342082bb990d6862f1f3553ef2b600";
    public const string BitHistorySha256 = "fc143fb158531818e8a70c3774ac4a0b1cc582273e95687b974e12b5e9e7cfd7";
    public const int BitHistoryStates = 231;

    // Frame 0: prose, primed, one model block. Frame 1: JSON without a primer in two blocks. Frame 2: code, primed.
    // Frame 3: 40 pseudo-random bytes, stored (no model, no primer in the header). Frames 0 to 2 name model v1.
    // Frames 4 to 6: the inputs of frames 0 to 2 with model v2. Frames 7 to 9: the same inputs and options with
    // model v3. Primed frames name prose-v3 or code-v2 (the primers of this project's own text); the frames primed
    // with the withdrawn primers are kept as hostile inputs in ArchiveHostileTests.
    public static readonly (byte[] Input, ArchiveOptions Options, string Hex)[] Frames =
    [
        (ArchiveTestData.Utf8(ArchiveTestData.Prose), new ArchiveOptions { Preset = ArchivePreset.Prose, ModelVersion = 1 },
            "5a34415201010103011813010322ad52596f345498b6ff6ca871e3b9c44cb39ad98fa6df16a0d1ab7a88ccf05ebf0103bf01"
            + "2215f724932943adf3d7b6d3caf555ca690a1d89b58df82fd920cfb472760ff878869800bf014ecc8670caa7e6d2b44c96a3"
            + "41bacbf83681f028164bd4c2927aec256c1a854c"),
        (ArchiveTestData.Repeat(ArchiveTestData.Json, 2), new ArchiveOptions { Preset = ArchivePreset.Json, UsePrimer = false, BlockSize = 200, ModelVersion = 1 },
            "5a3441520101010303100c00c80103c8017b8a9b211ef3f34c0c333cc71ffbae8cc5b49cdfb6b2f352d276b6166c3e290dc0"
            + "dce5bd4c6b1c80f8cdc1e0b2f9c99e61ea5db6c775adc643f614946c678cf46e6d60db96c1ce2d1d29c11da345880800d61a"
            + "fcc14019ee05850cf3d9eed9f439a0adfa24354462df3bb0eb01952a2d01301d04645450f48301abd8037a56cd36c458516d"
            + "6f5bf681aea46cbdcb28e7a6f948b342d39348639540b8a3fa7fbc23d08c3ebb9f0d9f1dbee3b869dbb8e8cd636f994942c8"
            + "bded950d9878ca34d0013837875e235a5e6e32e3d047cec199d88b759b6900c202eb561ffb882d09be1ae976708d245f8723"
            + "2e3ca524dc9a52a67d402e6bb1cd22"),
        (ArchiveTestData.Utf8(ArchiveTestData.Code), new ArchiveOptions { Preset = ArchivePreset.Code, ModelVersion = 1 },
            "5a344152010101030218120202725b511169a9d4685baed82933afb836b883d02bcaac80eb0be46a46a482b8cb5d035d0c00"
            + "3a1b168520584edeebe09f005df25defb7cd3b03c23ffafd832437a3f62b4586eeb4e4f1c3b0c6222d4dbcc218"),
        (ArchiveTestData.Scrambled(40), new ArchiveOptions(),
            "5a34415201000028012828c83496966adfe058ca01d4727ded1955d63ae52e1730eee549fa506166327023982573740c5214"
            + "5c0028ff30fcca0dc786fdea1f5843b855c10ee8d5643765301b8d0f72678ed0e3810d"),
        (ArchiveTestData.Utf8(ArchiveTestData.Prose), new ArchiveOptions { Preset = ArchivePreset.Prose },
            "5a34415201010203011813010322ad52596f345498b6ff6ca871e3b9c44cb39ad98fa6df16a0d1ab7a88ccf05ebf0103bf01"
            + "2215e4cc1b033cac7f03edb85a48887ad4cf8e0268d4e845a8aad62984412fa28c147300bf014ecc8670caa7e6d2b44c96a3"
            + "41bacbf83681f028164bd4c2927aec256c1a854c"),
        (ArchiveTestData.Repeat(ArchiveTestData.Json, 2), new ArchiveOptions { Preset = ArchivePreset.Json, UsePrimer = false, BlockSize = 200 },
            "5a3441520101020303100c00c80103c8017c8a02ba3007485c35397e662a2b3d01a49c50805f89f711d6f1f4b5e2fb8a1471"
            + "627fda36441ce256535a6ba85fafff790a14db0a116599a7ffea7998e4103af1b8edc337afb4882c0c2fb0dd6a1a76764aef"
            + "c5e213de5a4c9402159b1b9007fb4c9eeab06453abf876a09d92ac1cce9b7c001d753591fed3d77e7659037a56cc0a5e7b13"
            + "ccf5f776cb1de5d284a385e3d5c38973962017c3210f6cd3bdfba181e3541152d6bb63c80286bee32b31bf91d1478729c365"
            + "8176e49d3812abba9867ec1c458f429cf6ba2b7761e800d94c90a617e078e100c202eb561ffb882d09be1ae976708d245f87"
            + "232e3ca524dc9a52a67d402e6bb1cd22"),
        (ArchiveTestData.Utf8(ArchiveTestData.Code), new ArchiveOptions { Preset = ArchivePreset.Code },
            "5a344152010102030218120202725b511169a9d4685baed82933afb836b883d02bcaac80eb0be46a46a482b8cb5d035d0c00"
            + "27054e9d954f5f7434ff19005df25defb7cd3b03c23ffafd832437a3f62b4586eeb4e4f1c3b0c6222d4dbcc218"),
        (ArchiveTestData.Utf8(ArchiveTestData.Prose), new ArchiveOptions { Preset = ArchivePreset.Prose, ModelVersion = 3 },
            "5a34415201010303011813010322ad52596f345498b6ff6ca871e3b9c44cb39ad98fa6df16a0d1ab7a88ccf05ebf0103bf01"
            + "2213ee45d1ca03964f4f315d1de9724447a0bdd23e9105ec61ce8fd077caf6693bd3c200bf014ecc8670caa7e6d2b44c96a3"
            + "41bacbf83681f028164bd4c2927aec256c1a854c"),
        (ArchiveTestData.Repeat(ArchiveTestData.Json, 2), new ArchiveOptions { Preset = ArchivePreset.Json, UsePrimer = false, BlockSize = 200, ModelVersion = 3 },
            "5a3441520101030303100c00c80103c8017d89b754b6d4b2418025872f2cd3a34910167ebd61817fc89b1caf48111d35bc56"
            + "dd93770458d13c6187e112ce31d9415397d99c9f21096d614d3b51dade669156bcab1b921cb382371d6f4e43d8809a40ac1e"
            + "d17aadfa65c71bcd0efb57da73e1b9f0cea40b23149fa13197f68cfb506fc8a6cc9855794865461ef1cc38037a58cefcb01f"
            + "35eba677869169bae258f3edb25906e3e911c1cab93b53dd3303279ce209f48ca098bc31a309c7c9f9c1d440a4bd36230c4f"
            + "b1a14c3b385960b3cf67e3fe7e39cc28098b28c0eb9683f3be10480d34bcb3e7e86400c202eb561ffb882d09be1ae976708d"
            + "245f87232e3ca524dc9a52a67d402e6bb1cd22"),
        (ArchiveTestData.Utf8(ArchiveTestData.Code), new ArchiveOptions { Preset = ArchivePreset.Code, ModelVersion = 3 },
            "5a344152010103030218120202725b511169a9d4685baed82933afb836b883d02bcaac80eb0be46a46a482b8cb5d035d0d00"
            + "1c43ed8411cec8c1656290cc005df25defb7cd3b03c23ffafd832437a3f62b4586eeb4e4f1c3b0c6222d4dbcc218"),
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
        ["prose-v3"] = "22ad52596f345498b6ff6ca871e3b9c44cb39ad98fa6df16a0d1ab7a88ccf05e",
        ["code-v2"] = "725b511169a9d4685baed82933afb836b883d02bcaac80eb0be46a46a482b8cb",
        ["json-v1"] = "a9a04343a3ad546fc9ad7b57cdda7a28faa4acdaee4906aca0c1e0e1c8b6ea80",
    };
}
