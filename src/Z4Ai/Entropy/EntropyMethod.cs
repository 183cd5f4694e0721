namespace Z4Ai.Entropy;

/// <summary>The entropy coders for symbol streams. The numeric values are written into frames: never renumber.</summary>
internal enum EntropyMethod : byte
{
    /// <summary>Static-table rANS with one frequency table (order 0).</summary>
    RansOrder0 = 1,

    /// <summary>Static-table rANS with one table per previous symbol, rare contexts sharing one table (order 1).</summary>
    RansOrder1 = 2,

    /// <summary>Adaptive binary context mixing with a carry-less range coder (slow, smallest).</summary>
    ContextMixing = 3,

    /// <summary>Static-table rANS with K order-0 tables, each row of the stream coded with the table of its class.</summary>
    RansRowClasses = 4,

    /// <summary><see cref="RansOrder0"/> with 64 interleaved states (symbol i by state i mod 64), for vector decoding.</summary>
    RansOrder0Wide = 5,

    /// <summary><see cref="RansRowClasses"/> with 64 interleaved states (symbol i by state i mod 64), for vector decoding.</summary>
    RansRowClassesWide = 6,
}
