using System.CommandLine;

var root = new RootCommand("z4ai: compressed, verified storage for model weights");
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
