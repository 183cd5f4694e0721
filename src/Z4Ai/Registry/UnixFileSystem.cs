using System.Runtime.InteropServices;

namespace Z4Ai.Registry;

/// <summary>
/// The two file-system guarantees the local store needs and .NET does not offer on Unix: publishing a file under a
/// name only if that name is free, atomically (<c>link</c>: .NET's <c>File.Move(..., overwrite: false)</c> checks and
/// then renames, so two racing writers could both "win"), and flushing a directory's entries to stable storage
/// (<c>fsync</c> on the directory, which .NET cannot open as a file).
/// </summary>
internal static partial class UnixFileSystem
{
    private const int ReadOnly = 0;
    private const int AlreadyExists = 17; // EEXIST on Linux, macOS and the BSDs
    private static bool s_unavailable;

    internal enum LinkResult
    {
        /// <summary>The target now names the source's file.</summary>
        Linked,
        /// <summary>The target existed; nothing changed.</summary>
        Exists,
        /// <summary>Not Unix, or the file system has no hard links: use the portable fallback.</summary>
        Unsupported,
    }

    private static bool IsUnix => OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD();

    /// <summary>Creates <paramref name="target"/> as a hard link to <paramref name="source"/>, failing if it exists.</summary>
    public static LinkResult TryLink(string source, string target)
    {
        if (s_unavailable || !IsUnix)
        {
            return LinkResult.Unsupported;
        }

        try
        {
            if (Link(source, target) == 0)
            {
                return LinkResult.Linked;
            }

            return Marshal.GetLastPInvokeError() == AlreadyExists ? LinkResult.Exists : LinkResult.Unsupported;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            s_unavailable = true;
            return LinkResult.Unsupported;
        }
    }

    /// <summary>Flushes a directory's entries; best effort, since the rename or link itself already happened.</summary>
    public static void FlushDirectory(string directory)
    {
        if (s_unavailable || !IsUnix)
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

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Link(string existing, string created);

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
