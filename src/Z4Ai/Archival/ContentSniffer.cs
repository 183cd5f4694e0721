namespace Z4Ai.Archival;

/// <summary>
/// Picks a preset from a sample of the content. Only a guess for speed and ratio: every preset codes every input
/// losslessly, and the chosen preset is recorded in the frame.
/// </summary>
internal static class ContentSniffer
{
    private const int SampleLength = 1 << 16;

    /// <summary>The preset that suits <paramref name="data"/> best, judged on its first 64 KiB.</summary>
    public static ArchivePreset Detect(ReadOnlySpan<byte> data)
    {
        ReadOnlySpan<byte> sample = data.Length > SampleLength ? data[..SampleLength] : data;
        if (sample.IsEmpty)
        {
            return ArchivePreset.Prose;
        }

        int text = 0;
        int quotes = 0;
        int colons = 0;
        int braces = 0;
        int code = 0;
        int lines = 1;
        int indented = 0;
        bool lineStart = true;
        foreach (byte c in sample)
        {
            // Text: printable ASCII, tab, line breaks and any byte of a UTF-8 sequence; not other control codes.
            if (c is (byte)'\n' or (byte)'\r' or (byte)'\t' || (c >= 0x20 && c != 0x7F))
            {
                text++;
            }

            switch (c)
            {
                case (byte)'"':
                    quotes++;
                    break;
                case (byte)':':
                    colons++;
                    break;
                case (byte)'{' or (byte)'}' or (byte)'[' or (byte)']':
                    braces++;
                    break;
                case (byte)';' or (byte)'(' or (byte)')' or (byte)'=' or (byte)'_':
                    code++;
                    break;
            }

            if (c == (byte)'\n')
            {
                lines++;
                lineStart = true;
            }
            else if (lineStart)
            {
                if (c is (byte)' ' or (byte)'\t')
                {
                    indented++;
                }

                lineStart = false;
            }
        }

        int n = sample.Length;
        if (text * 10 < n * 9)
        {
            return ArchivePreset.Binary;
        }

        // Per mille of the sample: JSON and logs are dense in quotes, colons and brackets; code in operators,
        // parentheses and indented lines.
        long jsonScore = ((quotes + colons + braces) * 1000L) / n;
        long codeScore = (code * 1000L) / n;
        if (jsonScore >= 60 && quotes >= colons)
        {
            return ArchivePreset.Json;
        }

        if (codeScore >= 25 || (codeScore >= 12 && indented * 3 >= lines))
        {
            return ArchivePreset.Code;
        }

        return ArchivePreset.Prose;
    }
}
