using System.Runtime.InteropServices;

namespace Z4Ai.Registry;

/// <summary>
/// Flushes a directory's entries to stable storage (<c>fsync</c> on the directory), so that a file renamed or linked
/// into it survives a power failure, not just a killed process. .NET has no API for this: a directory cannot be opened
/// as a file, hence the two libc calls. On Windows NTFS journals renames and there is nothing to do.
/// </summary>
internal static partial class DirectorySync
{
    private const int ReadOnly = 0;
    private static bool s_unavailable;

    /// <summary>Best effort: failures are ignored, since the rename itself already happened.</summary>
    public static void Flush(string directory)
    {
        if (s_unavailable || !(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD()))
        {
            return;
        }

        try
        {
            int fd = Open(directory, ReadOnly);
            if (fd < 0)
            {
                return;
            }

            try
            {
                _ = FSync(fd);
            }
            finally
            {
                _ = Close(fd);
            }
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            s_unavailable = true;
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int FSync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Close(int fd);
}
