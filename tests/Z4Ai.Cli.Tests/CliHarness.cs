namespace Z4Ai.Cli.Tests;

/// <summary>Runs the real command line in-process with captured output and replaceable standard streams.</summary>
internal sealed class CliHarness
{
    public static async Task<CliResult> RunAsync(params string[] args) => await RunAsync(null, args).ConfigureAwait(false);

    public static async Task<CliResult> RunAsync(byte[]? stdin, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var stdout = new MemoryStream();
        int code = await Z4AiCli.RunAsync(
            args,
            output,
            error,
            () => new MemoryStream(stdin ?? []),
            () => new NonClosingStream(stdout)).ConfigureAwait(false);
        return new CliResult(code, output.ToString(), error.ToString(), stdout.ToArray());
    }

    /// <summary>Keeps the captured bytes readable after the command disposes "standard output".</summary>
    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    }
}

internal sealed record CliResult(int ExitCode, string Output, string Error, byte[] Stdout)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}
