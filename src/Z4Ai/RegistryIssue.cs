namespace Z4Ai;

/// <summary>One problem <see cref="ModelRegistry.Verify"/> found, and what it breaks.</summary>
/// <param name="Subject">What is damaged: <c>object &lt;sha256&gt;</c>, <c>manifest &lt;name&gt;</c> or <c>registry.json</c>.</param>
/// <param name="Problem">What is wrong with it.</param>
/// <param name="Versions">The versions that can no longer be restored because of it.</param>
/// <param name="Tensors">The tensors of those versions it breaks (<c>version: tensor</c>).</param>
public sealed record RegistryIssue(string Subject, string Problem, IReadOnlyList<string> Versions, IReadOnlyList<string> Tensors);
