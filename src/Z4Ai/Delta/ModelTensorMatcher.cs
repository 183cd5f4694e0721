using Z4Ai.Integrity;

namespace Z4Ai.Delta;

/// <summary>How a target tensor found its base tensor (see <see cref="ModelTensorMatcher"/>).</summary>
internal enum ModelMatchKind
{
    /// <summary>No base tensor: the tensor is stored on its own.</summary>
    None,

    /// <summary>A base tensor with the same name, dtype and shape.</summary>
    Name,

    /// <summary>A base tensor with the same dtype and shape at the same position among the unmatched ones (a rename).</summary>
    Position,

    /// <summary>A base tensor with the same name and dtype but another shape (a resized tensor, e.g. a grown vocabulary).</summary>
    Resized,
}

/// <summary>The plan for one target tensor.</summary>
/// <param name="Kind">How the base tensor was found.</param>
/// <param name="BaseIndex">The matched base tensor's position in the base's list, or -1.</param>
/// <param name="CopyOf">The position of a base tensor with exactly the same bytes, or -1.</param>
internal readonly record struct ModelMatch(ModelMatchKind Kind, int BaseIndex, int CopyOf);

/// <summary>
/// Pairs every tensor of a target model with the base tensor it is most likely a new version of. Pure logic over
/// tensor descriptions; the same inputs always give the same plan.
/// </summary>
/// <remarks>
/// <para>Stages, each over the tensors the earlier stages left unpaired (a base tensor is paired at most once):</para>
/// <list type="number">
/// <item>by name: same name, dtype and shape;</item>
/// <item>by content: a tensor identical to a base tensor is a copy of it and takes no part in the next stage (its
/// base tensor neither, if it was still free);</item>
/// <item>by position: tensors grouped by (dtype, shape); within a group the k-th unpaired target tensor (in the
/// target's order) pairs with the k-th unpaired base tensor (in the base's order), which follows a fine-tune that
/// renamed or re-ordered layers;</item>
/// <item>resized: same name and dtype, other shape (bytes at the same offsets are compared, which pays when rows
/// were appended).</item>
/// </list>
/// <para>
/// Independently of pairing, a target tensor whose bytes equal some base tensor's (same length and SHA-256) is a
/// copy of it: its own pair when identical, else a base tensor of the same name, else the first in base order.
/// Empty tensors are never paired or copied: they cost nothing on their own.
/// </para>
/// </remarks>
internal static class ModelTensorMatcher
{
    public static ModelMatch[] Match(IReadOnlyList<ModelTensor> target, IReadOnlyList<ModelTensor> @base)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(@base);
        var byName = new Dictionary<string, int>(@base.Count, StringComparer.Ordinal);
        for (int b = 0; b < @base.Count; b++)
        {
            byName.TryAdd(@base[b].Name, b);
        }

        int[] pair = new int[target.Count];
        var kinds = new ModelMatchKind[target.Count];
        bool[] used = new bool[@base.Count];
        Array.Fill(pair, -1);

        for (int t = 0; t < target.Count; t++)
        {
            ModelTensor tt = target[t];
            if (tt.Length > 0 && byName.TryGetValue(tt.Name, out int b) && @base[b].SameLayout(tt.DType, tt.Shape))
            {
                Pair(t, b, ModelMatchKind.Name);
            }
        }

        // Tensors identical to an unpaired base tensor are copies: taking both out of the position stage keeps a
        // fine-tune that renamed everything but changed a few tensors aligned on the few that changed.
        var byContent = new Dictionary<(long Length, Sha256Digest Digest), List<int>>();
        for (int b = 0; b < @base.Count; b++)
        {
            (long, Sha256Digest) key = (@base[b].Length, @base[b].Digest);
            if (!byContent.TryGetValue(key, out List<int>? list))
            {
                byContent[key] = list = [];
            }

            list.Add(b);
        }

        bool[] copied = new bool[target.Count];
        for (int t = 0; t < target.Count; t++)
        {
            if (pair[t] < 0 && target[t].Length > 0 && byContent.TryGetValue((target[t].Length, target[t].Digest), out List<int>? same))
            {
                copied[t] = true;
                int free = same.FindIndex(b => !used[b]);
                if (free >= 0)
                {
                    used[same[free]] = true;
                }
            }
        }

        var queues = new Dictionary<LayoutKey, Queue<int>>();
        for (int b = 0; b < @base.Count; b++)
        {
            if (!used[b] && @base[b].Length > 0)
            {
                var key = new LayoutKey(@base[b]);
                if (!queues.TryGetValue(key, out Queue<int>? queue))
                {
                    queues[key] = queue = new Queue<int>();
                }

                queue.Enqueue(b);
            }
        }

        for (int t = 0; t < target.Count; t++)
        {
            if (pair[t] < 0 && !copied[t] && target[t].Length > 0 && queues.TryGetValue(new LayoutKey(target[t]), out Queue<int>? queue) && queue.Count > 0)
            {
                Pair(t, queue.Dequeue(), ModelMatchKind.Position);
            }
        }

        for (int t = 0; t < target.Count; t++)
        {
            ModelTensor tt = target[t];
            if (pair[t] < 0 && !copied[t] && tt.Length > 0 && byName.TryGetValue(tt.Name, out int b) && !used[b] && @base[b].DType == tt.DType && @base[b].Length > 0)
            {
                Pair(t, b, ModelMatchKind.Resized);
            }
        }

        var result = new ModelMatch[target.Count];
        for (int t = 0; t < target.Count; t++)
        {
            ModelTensor tt = target[t];
            int copyOf = -1;
            if (tt.Length > 0 && byContent.TryGetValue((tt.Length, tt.Digest), out List<int>? same))
            {
                copyOf = same[0];
                if (pair[t] >= 0 && SameBytes(tt, @base[pair[t]]))
                {
                    copyOf = pair[t];
                }
                else if (byName.TryGetValue(tt.Name, out int sameName) && SameBytes(tt, @base[sameName]))
                {
                    copyOf = sameName;
                }
            }

            result[t] = new ModelMatch(kinds[t], pair[t], copyOf);
        }

        return result;

        void Pair(int t, int b, ModelMatchKind kind)
        {
            pair[t] = b;
            kinds[t] = kind;
            used[b] = true;
        }
    }

    private static bool SameBytes(ModelTensor a, ModelTensor b) => a.Length == b.Length && a.Digest == b.Digest;

    private readonly struct LayoutKey(ModelTensor tensor) : IEquatable<LayoutKey>
    {
        private readonly DType _dtype = tensor.DType;
        private readonly long[] _shape = tensor.Shape;

        public bool Equals(LayoutKey other) => _dtype == other._dtype && _shape.AsSpan().SequenceEqual(other._shape);

        public override bool Equals(object? obj) => obj is LayoutKey other && Equals(other);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            hash.Add(_dtype);
            foreach (long d in _shape)
            {
                hash.Add(d);
            }

            return hash.ToHashCode();
        }
    }
}
