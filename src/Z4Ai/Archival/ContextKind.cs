namespace Z4Ai.Archival;

/// <summary>
/// The hashed contexts a <see cref="ContextMixModel"/> preset can combine. The numeric values are part of the
/// model definition: they seed each context's hash, so they never change for a given model version.
/// </summary>
internal enum ContextKind : byte
{
    /// <summary>The last two bytes.</summary>
    Order2 = 2,

    /// <summary>The last three bytes.</summary>
    Order3 = 3,

    /// <summary>The last four bytes.</summary>
    Order4 = 4,

    /// <summary>The last six bytes.</summary>
    Order6 = 6,

    /// <summary>The current word so far (case-folded letters), or the previous word and the separator after it.</summary>
    Word = 16,

    /// <summary>The current word so far, the previous word and the last byte (model version 2 and later).</summary>
    WordPair = 17,

    /// <summary>The byte above (same column, previous line) and the last byte.</summary>
    Column = 24,

    /// <summary>The indentation of the line, the line's first character and the last byte.</summary>
    Indent = 32,

    /// <summary>The innermost open bracket, the nesting depth and the last byte.</summary>
    Bracket = 33,

    /// <summary>The last JSON-style key (quoted string before a colon), the nesting depth and the last byte.</summary>
    Key = 40,

    /// <summary>The byte two back only.</summary>
    Skip1 = 48,

    /// <summary>The bytes two and three back.</summary>
    Skip2 = 49,

    /// <summary>The byte four back and the last byte (records of 4 bytes).</summary>
    Stride4 = 50,

}
