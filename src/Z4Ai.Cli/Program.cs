using Z4Ai.Cli;

return await Z4AiCli.RunAsync(args).ConfigureAwait(false);
