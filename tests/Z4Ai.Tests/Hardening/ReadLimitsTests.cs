using System.Text;
using NUnit.Framework;
using Z4Ai.Fuzz;

namespace Z4Ai.Tests.Hardening;

/// <summary>Each <see cref="ReadLimits"/> bound refuses a file over it, and the defaults accept every valid file.</summary>
public class ReadLimitsTests
{
    private static string HostileDir => Path.Combine(AppContext.BaseDirectory, "TestData", "hostile");

    [Test]
    public void Default_EqualsTheFormatLimits()
    {
        ReadLimits d = ReadLimits.Default;
        Assert.That(d.MaxHeaderBytes, Is.EqualTo(100_000_000));
        Assert.That(d.MaxIndexBytes, Is.EqualTo(1L << 30));
        Assert.That(d.MaxChunkBytes, Is.EqualTo(64 << 20));
        Assert.That(d.MaxTensorCount, Is.EqualTo(1_000_000));
        Assert.That(d.MaxDeltaChainDepth, Is.EqualTo(64));
    }

    [Test]
    public void Init_OutOfRange_ThrowsArgumentOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ReadLimits { MaxHeaderBytes = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ReadLimits { MaxHeaderBytes = 100_000_001 });
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ReadLimits { MaxIndexBytes = (1L << 30) + 1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ReadLimits { MaxChunkBytes = 4095 });
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ReadLimits { MaxChunkBytes = (64 << 20) + 1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ReadLimits { MaxTensorCount = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ReadLimits { MaxDeltaChainDepth = 0 });
    }

    [Test]
    public void Load_SafeTensorsHeaderOverMaxHeaderBytes_Refused()
    {
        byte[] file = SafeTensorsCompat.Save(FuzzModels.Base(), FuzzModels.Metadata(), new SaveOptions { Format = StorageFormat.SafeTensors });
        long header = BitConverter.ToInt64(file, 0);
        Assert.That(SafeTensorsCompat.Load(file, new ReadLimits { MaxHeaderBytes = header }), Has.Count.EqualTo(6));
        var ex = Assert.Throws<Z4AiFormatException>(() => SafeTensorsCompat.Load(file, new ReadLimits { MaxHeaderBytes = header - 1 }));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.HeaderTooLarge));
    }

    [TestCase(StorageFormat.SafeTensors)]
    [TestCase(StorageFormat.Z4Ai)]
    public void Load_MoreTensorsThanMaxTensorCount_RefusedWithLimitExceeded(StorageFormat format)
    {
        byte[] file = SafeTensorsCompat.Save(FuzzModels.Base(), FuzzModels.Metadata(), new SaveOptions { Format = format });
        Assert.That(SafeTensorsCompat.Load(file, new ReadLimits { MaxTensorCount = 6 }), Has.Count.EqualTo(6));
        var ex = Assert.Throws<Z4AiFormatException>(() => SafeTensorsCompat.Load(file, new ReadLimits { MaxTensorCount = 5 }));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.LimitExceeded));
        Assert.That(ex.Message, Does.Contain("6 tensors"));
    }

    [Test]
    public void Open_ContainerIndexOverMaxIndexBytes_RefusedWithLimitExceeded()
    {
        byte[] file = SafeTensorsCompat.Save(FuzzModels.Base(), FuzzModels.Metadata());
        long indexLength = Z4Ai.Tests.Format.ContainerKit.UnpackedIndexLength(file);
        using (SafeTensorsCompat.Open(new MemoryStream(file), new ReadLimits { MaxIndexBytes = indexLength }))
        {
        }

        var ex = Assert.Throws<Z4AiFormatException>(() => SafeTensorsCompat.Open(new MemoryStream(file), new ReadLimits { MaxIndexBytes = indexLength - 1 }));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.LimitExceeded));
    }

    [Test]
    public void Open_ContainerChunkOverMaxChunkBytes_RefusedWithLimitExceeded()
    {
        byte[] file = SafeTensorsCompat.Save(FuzzModels.Base(), FuzzModels.Metadata(), new SaveOptions { ChunkSize = 128 << 10 });
        using (SafeTensorsCompat.Open(new MemoryStream(file), new ReadLimits { MaxChunkBytes = 128 << 10 }))
        {
        }

        var ex = Assert.Throws<Z4AiFormatException>(() => SafeTensorsCompat.Open(new MemoryStream(file), new ReadLimits { MaxChunkBytes = 64 << 10 }));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.LimitExceeded));
        Assert.That(ex.Message, Does.Contain("131072"));
    }

    [Test]
    public void DecompressChain_DeeperThanMaxDeltaChainDepth_RefusedBeforeReadingAnyFile()
    {
        string[] chain = ["one.z4delta", "two.z4delta", "three.z4delta"];
        var ex = Assert.Throws<Z4AiFormatException>(
            () => DeltaCodec.DecompressChain(chain, "missing-base.safetensors", "out.safetensors", new ReadLimits { MaxDeltaChainDepth = 2 }));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.LimitExceeded));
        Assert.That(File.Exists("out.safetensors"), Is.False);
    }

    [Test]
    public void DecompressChain_ADeltaListedTwice_RefusedAsABrokenChain()
    {
        using var targets = new FuzzTargets();
        string target = Path.Combine(targets.ScratchDirectory, "target.safetensors");
        string delta = Path.Combine(targets.ScratchDirectory, "target.z4delta");
        string output = Path.Combine(targets.ScratchDirectory, "out.safetensors");
        SafeTensorsCompat.SaveFile(FuzzModels.FineTune(), target, FuzzModels.Metadata(), new SaveOptions { Format = StorageFormat.SafeTensors });
        DeltaCodec.CompressFile(target, targets.BasePath, delta, new DeltaOptions { ChunkSize = 64 });
        DeltaCodec.DecompressChain([delta], targets.BasePath, output);
        Assert.That(File.ReadAllBytes(output), Is.EqualTo(File.ReadAllBytes(target)));
        File.Delete(output);

        var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.DecompressChain([delta, delta], targets.BasePath, output));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.ReferenceMismatch));
        Assert.That(File.Exists(output), Is.False);
    }

    [Test]
    public void Load_MillionTensorHeader_RefusedByMaxTensorCount()
    {
        byte[] payload = FuzzPayloads.OverlappingTensors(20_000);
        var ex = Assert.Throws<Z4AiFormatException>(() => SafeTensorsCompat.Load(payload, new ReadLimits { MaxTensorCount = 10_000 }));
        Assert.That(ex!.Kind, Is.AnyOf(Z4AiErrorKind.LimitExceeded, Z4AiErrorKind.InvalidOffset));
    }

    /// <summary>
    /// A small hostile file is refused with allocations bounded by its own length (plus a fixed allowance), never by
    /// the sizes it declares: the DoS payloads declare up to 2^62 bytes and 2^40 tensors.
    /// </summary>
    [TestCaseSource(nameof(DosPayloads))]
    public void Open_DosPayload_AllocatesNoMoreThanItsLengthJustifies(string fileName)
    {
        byte[] bytes = File.ReadAllBytes(Path.Combine(HostileDir, fileName));
        using var targets = new FuzzTargets();
        string target = Path.GetExtension(fileName) switch
        {
            ".safetensors" => "safetensors",
            ".z4ai" => "container",
            ".frame" => "codec",
            _ => "delta",
        };
        targets.TryRun(target, bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.That(targets.TryRun(target, bytes), Is.False);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.LessThan((1 << 20) + (32L * bytes.Length)), $"{fileName}: {allocated} bytes allocated for a {bytes.Length}-byte file");
    }

    private static IEnumerable<string> DosPayloads() =>
        Directory.GetFiles(HostileDir, "*_DoS*").Select(p => Path.GetFileName(p)!).Order(StringComparer.Ordinal);

    [Test]
    public void Load_DefaultLimits_AcceptAValidFileWithMetadata()
    {
        byte[] file = SafeTensorsCompat.Save(FuzzModels.Base(), new Dictionary<string, string> { ["note"] = new string('x', 5000) });
        Assert.That(SafeTensorsCompat.Load(file, ReadLimits.Default), Has.Count.EqualTo(6));
        Assert.That(Encoding.UTF8.GetString(file.AsSpan(0, 4)), Is.EqualTo("Z4AI"));
    }
}
