namespace Z4Ai.Archival;

/// <summary>
/// What the text contexts need to know about the bytes so far: word hashes, line and column, indentation,
/// brackets and the last quoted key. A value type, so a model snapshot copies it with one assignment.
/// </summary>
internal struct TextState
{
    /// <summary>The hash of the current word (0 between words).</summary>
    public uint Word0;

    /// <summary>The hash of the previous word.</summary>
    public uint Word1;

    /// <summary>The position just after the last line feed.</summary>
    public int LineStart;

    /// <summary>The start of the previous line.</summary>
    public int PreviousLineStart;

    /// <summary>The number of spaces and tabs that begin the current line.</summary>
    public int Indent;

    /// <summary>Whether only spaces and tabs have been seen on the current line.</summary>
    public bool InIndent;

    /// <summary>The first byte of the current line after its indentation (0 before it).</summary>
    public byte LineFirst;

    /// <summary>The innermost open brackets, one byte each, innermost lowest.</summary>
    public uint Brackets;

    /// <summary>The bracket nesting depth.</summary>
    public int Depth;

    /// <summary>The hash of the last quoted string followed by a colon (a JSON key).</summary>
    public uint Key;

    /// <summary>Whether the position is inside a double-quoted string.</summary>
    public bool InString;

    /// <summary>Whether the last byte inside a string was an unescaped backslash.</summary>
    public bool Escape;

    /// <summary>The hash of the quoted string being read.</summary>
    public uint StringHash;

    /// <summary>The hash of the last complete quoted string.</summary>
    public uint LastString;

    /// <summary>The state before any byte.</summary>
    public static TextState Initial => new() { InIndent = true };

    /// <summary>Accounts for byte <paramref name="c"/>, which was just stored at <paramref name="position"/> - 1.</summary>
    /// <param name="c">The byte.</param>
    /// <param name="position">The history length including <paramref name="c"/>.</param>
    /// <param name="wordDigits">Whether digits and underscores belong to words.</param>
    public void Update(byte c, int position, bool wordDigits)
    {
        if (IsWordByte(c, wordDigits))
        {
            int folded = (uint)(c - 'A') < 26u ? c + 32 : c;
            Word0 = (Word0 + (uint)folded + 1) * 0x2F0B4C6Du;
            if (Word0 == 0)
            {
                Word0 = 1;
            }
        }
        else if (Word0 != 0)
        {
            Word1 = Word0;
            Word0 = 0;
        }

        if (c == (byte)'\n')
        {
            PreviousLineStart = LineStart;
            LineStart = position;
            Indent = 0;
            InIndent = true;
            LineFirst = 0;
        }
        else if (InIndent)
        {
            if (c is (byte)' ' or (byte)'\t')
            {
                Indent++;
            }
            else
            {
                InIndent = false;
                LineFirst = c;
            }
        }

        if (InString)
        {
            if (Escape)
            {
                Escape = false;
                StringHash = (StringHash + c + 1) * 0x01000193u;
            }
            else if (c == (byte)'\\')
            {
                Escape = true;
            }
            else if (c == (byte)'"')
            {
                InString = false;
                LastString = StringHash;
            }
            else
            {
                StringHash = (StringHash + c + 1) * 0x01000193u;
            }

            return;
        }

        switch (c)
        {
            case (byte)'"':
                InString = true;
                StringHash = 0;
                break;
            case (byte)':':
                Key = LastString;
                break;
            case (byte)'(' or (byte)'[' or (byte)'{':
                Brackets = (Brackets << 8) | c;
                Depth++;
                break;
            case (byte)')' or (byte)']' or (byte)'}':
                Brackets >>= 8;
                Depth = Math.Max(0, Depth - 1);
                break;
        }
    }

    private static bool IsWordByte(int c, bool wordDigits) =>
        (uint)((c | 0x20) - 'a') < 26u || c >= 128 || (wordDigits && ((uint)(c - '0') < 10u || c == '_'));
}
