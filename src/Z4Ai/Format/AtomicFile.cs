namespace Z4Ai.Format;

/// <summary>
/// Writes a file under a temporary sibling name and renames it over the target only when
/// <see cref="Commit"/> is called, so a failed or cancelled write never leaves a partial file where a finished
/// one is expected. Disposing without committing deletes the temporary file.
/// </summary>
internal sealed class AtomicFile : IDisposable
{
    private readonly string _targetPath;
    private readonly string _tempPath;
    private FileStream? _stream;
    private bool _committed;

    private AtomicFile(string targetPath)
    {
        _targetPath = Path.GetFullPath(targetPath);
        string directory = Path.GetDirectoryName(_targetPath) ?? ".";
        Directory.CreateDirectory(directory);
        _tempPath = Path.Combine(directory, $".{Path.GetFileName(_targetPath)}.{Guid.NewGuid():N}.tmp");
        _stream = new FileStream(_tempPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.None);
    }

    /// <summary>The stream to write the content to.</summary>
    public FileStream Stream => _stream ?? throw new ObjectDisposedException(nameof(AtomicFile));

    /// <summary>Starts writing <paramref name="targetPath"/>.</summary>
    public static AtomicFile Create(string targetPath) => new(targetPath);

    /// <summary>Flushes the data to the device, then atomically replaces the target.</summary>
    public void Commit()
    {
        FileStream stream = Stream;
        stream.Flush(flushToDisk: true);
        stream.Dispose();
        _stream = null;
        File.Move(_tempPath, _targetPath, overwrite: true);
        _committed = true;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _stream?.Dispose();
        _stream = null;
        if (!_committed)
        {
            try
            {
                File.Delete(_tempPath);
            }
            catch (IOException)
            {
                // Best effort: the temp name starts with '.', ends in .tmp and is never mistaken for output.
            }
            catch (UnauthorizedAccessException)
            {
                // Same as above.
            }
        }
    }
}
