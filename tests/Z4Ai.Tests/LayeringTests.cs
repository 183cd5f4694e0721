using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Z4Ai.Tests;

/// <summary>
/// Keeps the dependency rule of ARCHITECTURE.md true: a folder of src/Z4Ai uses only the folders below it, only
/// the zstd adapter names ZstdSharp, and the span kernels never touch files or streams.
/// </summary>
public partial class LayeringTests
{
    // Lower rank = lower layer. Root files (contracts and entry points) are checked separately.
    private static readonly Dictionary<string, int> Rank = new(StringComparer.Ordinal)
    {
        ["Internal"] = 1,
        ["Planes"] = 2,
        ["Integrity"] = 3,
        ["Transforms"] = 4,
        ["Entropy"] = 5,
        ["Archival"] = 6,
        ["Codecs"] = 7,
        ["Delta"] = 8,
        ["Format"] = 9,
        ["Certification"] = 10,
        ["Registry"] = 11,
        ["Runtime"] = 12,
    };

    private static readonly string[] KernelFolders = ["Planes", "Transforms", "Entropy", "Codecs"];

    private static string SourceRoot()
    {
        string? dir = TestContext.CurrentContext.TestDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Z4Ai.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        Assume.That(dir, Is.Not.Null, "the repository sources are not next to the test binaries");
        return Path.Combine(dir!, "src", "Z4Ai");
    }

    private static IEnumerable<(string Folder, string File, string Text)> Sources()
    {
        string root = SourceRoot();
        foreach (string file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(root, file);
            if (relative.StartsWith("obj", StringComparison.Ordinal) || relative.StartsWith("bin", StringComparison.Ordinal))
            {
                continue;
            }

            string folder = relative.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal)
                ? relative[..relative.IndexOf(Path.DirectorySeparatorChar, StringComparison.Ordinal)]
                : string.Empty;
            yield return (folder, relative, File.ReadAllText(file));
        }
    }

    [Test]
    public void EveryFolder_UsesOnlyLowerLayers()
    {
        var violations = new List<string>();
        foreach ((string folder, string file, string text) in Sources())
        {
            if (folder.Length == 0)
            {
                continue;
            }

            Assert.That(Rank, Does.ContainKey(folder), $"{file}: folder '{folder}' has no place in the layer table");
            foreach (Match m in UsingZ4Ai().Matches(text))
            {
                string used = m.Groups[1].Value;
                if (used == folder || !Rank.TryGetValue(used, out int usedRank))
                {
                    continue;
                }

                if (usedRank >= Rank[folder])
                {
                    violations.Add($"{file}: {folder} (layer {Rank[folder]}) uses {used} (layer {usedRank})");
                }
            }
        }

        Assert.That(violations, Is.Empty);
    }

    [Test]
    public void OnlyTheZstdAdapter_NamesZstdSharp()
    {
        string[] users = Sources().Where(s => s.Text.Contains("using ZstdSharp", StringComparison.Ordinal)).Select(s => s.File).ToArray();
        Assert.That(users, Is.EqualTo(new[] { Path.Combine("Entropy", "ZstdBackend.cs") }));
    }

    [Test]
    public void Kernels_NeverTouchFilesOrStreams()
    {
        string[] offenders = Sources()
            .Where(s => KernelFolders.Contains(s.Folder) && FileOrStream().IsMatch(s.Text))
            .Select(s => s.File)
            .ToArray();
        Assert.That(offenders, Is.Empty);
    }

    [GeneratedRegex(@"^\s*using\s+(?:static\s+)?Z4Ai\.(\w+)", RegexOptions.Multiline)]
    private static partial Regex UsingZ4Ai();

    [GeneratedRegex(@"\b(FileStream|File\.|Directory\.|RandomAccess\.|Stream\b)")]
    private static partial Regex FileOrStream();
}
