namespace Z4Ai.Archival;

internal static class Tune
{
    public static readonly int[] V = Parse();

    private static int[] Parse()
    {
        var v = new int[16];
        string? s = Environment.GetEnvironmentVariable("Z4AI_TUNE");
        if (s is not null)
        {
            string[] parts = s.Split(',');
            for (int i = 0; i < parts.Length && i < 16; i++)
            {
                if (parts[i].Length > 0)
                {
                    v[i] = int.Parse(parts[i]);
                }
            }
        }

        return v;
    }
}
