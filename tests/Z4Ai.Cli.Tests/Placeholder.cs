namespace Z4Ai.Cli.Tests; internal static class Placeholder { }
