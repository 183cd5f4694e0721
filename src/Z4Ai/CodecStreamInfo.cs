namespace Z4Ai;

/// <summary>
/// One stream of a compressed buffer, summed over its chunks: where it sits in the recipe, how it is coded, and
/// what it costs.
/// </summary>
/// <param name="Path">Its place in the recipe, such as <c>data/exponent</c> or <c>data/values/indices</c>.</param>
/// <param name="Coder">The leaf coder: <c>stored</c>, <c>zstd</c>, <c>rans-o0</c>, <c>rans-o1</c> or <c>cm</c> (context mixing).</param>
/// <param name="Chunks">How many chunks have this stream with this coder.</param>
/// <param name="RawBytes">The bytes the stream decodes to.</param>
/// <param name="EncodedBytes">The bytes it takes in the frame.</param>
/// <param name="BitsPerElement">Encoded bits per element of the whole buffer (so the streams of a recipe add up).</param>
public sealed record CodecStreamInfo(string Path, string Coder, int Chunks, long RawBytes, long EncodedBytes, double BitsPerElement);
