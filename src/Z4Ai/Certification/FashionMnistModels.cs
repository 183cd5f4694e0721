using System.Globalization;
using Z4Ai.Format;

namespace Z4Ai.Certification;

/// <summary>
/// The built-in task's two models: a base trained on the train split, and a fine-tune of it trained further on a
/// subset in which one class is repeated, which shifts its predictions towards that class. Both are saved as F32
/// safetensors whose metadata records the recipe; files that already carry the same recipe are reused, so the
/// deterministic training runs once per machine.
/// </summary>
internal static class FashionMnistModels
{
    public const string RecipeKey = "z4ai.recipe";

    public static (string BasePath, string FineTunePath) Create(string directory, FashionMnistTraining t, string? dataDirectory, CancellationToken ct)
    {
        Directory.CreateDirectory(directory);
        string basePath = Path.Combine(directory, "fashion-mnist-base.safetensors");
        string fineTunePath = Path.Combine(directory, "fashion-mnist-finetune.safetensors");
        FashionMnistData train = FashionMnistData.Load(dataDirectory, train: true, t.TrainExamples);
        string recipe = string.Create(
            CultureInfo.InvariantCulture,
            $"mlp-784-{t.Hidden}-10;train={train.Sha256};n={train.Count};epochs={t.BaseEpochs};lr={t.LearningRate:R};batch={t.BatchSize};seed={t.Seed};"
            + $"ft-n={t.FineTuneExamples};ft-epochs={t.FineTuneEpochs};ft-class={t.FineTuneClass}x{t.FineTuneClassWeight};v2");
        if (HasRecipe(basePath, "base;" + recipe) && HasRecipe(fineTunePath, "finetune;" + recipe))
        {
            return (basePath, fineTunePath);
        }

        MlpModel model = MlpModel.CreateRandom([FashionMnistData.Pixels, t.Hidden, FashionMnistData.Classes], t.Seed);
        int[] all = Enumerable.Range(0, train.Count).ToArray();
        MlpTrainer.Train(model, train, all, t.BaseEpochs, t.LearningRate, t.BatchSize, t.Seed, ct);
        model.Save(basePath, new Dictionary<string, string> { [RecipeKey] = "base;" + recipe });

        // The fine-tune sees a subset in which the chosen class appears FineTuneClassWeight times.
        var subset = new List<int>();
        for (int i = 0; i < Math.Min(t.FineTuneExamples, train.Count); i++)
        {
            int copies = train.Labels[i] == t.FineTuneClass ? t.FineTuneClassWeight : 1;
            for (int c = 0; c < copies; c++)
            {
                subset.Add(i);
            }
        }

        MlpTrainer.Train(model, train, [.. subset], t.FineTuneEpochs, t.LearningRate, t.BatchSize, t.Seed + 1, ct);
        model.Save(fineTunePath, new Dictionary<string, string> { [RecipeKey] = "finetune;" + recipe });
        return (basePath, fineTunePath);
    }

    private static bool HasRecipe(string path, string recipe)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        try
        {
            using TensorFile file = TensorFile.Open(path);
            return file.Metadata is { } m && m.TryGetValue(RecipeKey, out string? value) && value == recipe;
        }
        catch (Z4AiException)
        {
            return false;
        }
    }
}
