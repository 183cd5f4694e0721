"""Unit tests for tensor_files.py.

Written for the Z4Ai archive primer. The tests build small safetensors files in a temporary folder, byte by byte
where the point is a malformed header, and check that every reader either returns exactly what was written or
raises FormatError with a message that names the problem. Run with ``python -m unittest test_tensor_files``.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import tempfile
import unittest
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import tensor_files
from tensor_files import FormatError, SafetensorsFile, TensorInfo, compare_files, digest_file, merge_files, read_header, write_file


def raw_file(header: Dict[str, object], data: bytes, pad: bool = True) -> bytes:
    """The bytes of a safetensors file with this header and data section, without any validation."""
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    if pad:
        text += b" " * ((-len(text)) % 8)
    return struct.pack("<Q", len(text)) + text + data


def f32(values: Sequence[float]) -> bytes:
    return struct.pack(f"<{len(values)}f", *values)


class TempFolderTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="tensor-files-test-")

    def tearDown(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def path(self, name: str) -> str:
        return os.path.join(self.folder, name)

    def write_raw(self, name: str, content: bytes) -> str:
        path = self.path(name)
        with open(path, "wb") as handle:
            handle.write(content)
        return path

    def write_model(self, name: str, tensors: Dict[str, List[float]], metadata: Optional[Dict[str, str]] = None) -> str:
        path = self.path(name)
        entries = OrderedDict((k, ("F32", [len(v)], f32(v))) for k, v in tensors.items())
        write_file(path, entries, metadata)
        return path


class ReadHeaderTests(TempFolderTestCase):
    def parse(self, content: bytes) -> tensor_files.Header:
        return read_header(io.BytesIO(content), len(content), "memory")

    def test_a_valid_header_is_parsed_in_file_order(self) -> None:
        header = {
            "b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
            "a": {"dtype": "U8", "shape": [3], "data_offsets": [8, 11]},
            "__metadata__": {"format": "pt"},
        }
        parsed = self.parse(raw_file(header, bytes(11)))
        self.assertEqual(list(parsed.tensors), ["b", "a"])
        self.assertEqual(parsed.metadata, {"format": "pt"})
        self.assertEqual(parsed.tensors["a"].shape, (3,))
        self.assertEqual(parsed.total_bytes(), 11)

    def test_an_empty_file_is_rejected(self) -> None:
        with self.assertRaisesRegex(FormatError, "shorter than the 8-byte header length"):
            self.parse(b"")

    def test_a_header_longer_than_the_file_is_rejected(self) -> None:
        content = struct.pack("<Q", 1000) + b"{}"
        with self.assertRaisesRegex(FormatError, "runs past the end of the file"):
            self.parse(content)

    def test_a_huge_header_length_is_rejected_before_reading(self) -> None:
        content = struct.pack("<Q", 1 << 40)
        with self.assertRaisesRegex(FormatError, "exceeds the limit"):
            self.parse(content)

    def test_invalid_json_is_reported(self) -> None:
        content = struct.pack("<Q", 4) + b"{nop"
        with self.assertRaisesRegex(FormatError, "not valid JSON"):
            self.parse(content)

    def test_a_header_that_is_not_an_object_is_rejected(self) -> None:
        content = struct.pack("<Q", 2) + b"[]"
        with self.assertRaisesRegex(FormatError, "not a JSON object"):
            self.parse(content)

    def test_an_unknown_dtype_names_the_tensor(self) -> None:
        header = {"w": {"dtype": "F12", "shape": [1], "data_offsets": [0, 2]}}
        with self.assertRaises(FormatError) as caught:
            self.parse(raw_file(header, bytes(2)))
        self.assertIn("'F12'", str(caught.exception))
        self.assertEqual(caught.exception.tensor, "w")

    def test_negative_and_boolean_dimensions_are_rejected(self) -> None:
        for shape in ([-1], [True], ["2"]):
            with self.subTest(shape=shape):
                header = {"w": {"dtype": "U8", "shape": shape, "data_offsets": [0, 1]}}
                with self.assertRaisesRegex(FormatError, "invalid dimension"):
                    self.parse(raw_file(header, bytes(1)))

    def test_a_length_that_does_not_match_the_shape_is_rejected(self) -> None:
        header = {"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}
        with self.assertRaisesRegex(FormatError, "holds 8 bytes but its shape needs 12"):
            self.parse(raw_file(header, bytes(8)))

    def test_overlapping_tensors_are_rejected(self) -> None:
        header = {
            "a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
            "b": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]},
        }
        with self.assertRaisesRegex(FormatError, "overlaps the previous tensor"):
            self.parse(raw_file(header, bytes(6)))

    def test_a_gap_between_tensors_is_rejected(self) -> None:
        header = {
            "a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]},
            "b": {"dtype": "U8", "shape": [2], "data_offsets": [4, 6]},
        }
        with self.assertRaisesRegex(FormatError, "leaves a gap"):
            self.parse(raw_file(header, bytes(6)))

    def test_trailing_bytes_after_the_last_tensor_are_rejected(self) -> None:
        header = {"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}}
        with self.assertRaisesRegex(FormatError, "cover 2 bytes but the data section has 5"):
            self.parse(raw_file(header, bytes(5)))

    def test_metadata_must_map_strings_to_strings(self) -> None:
        header = {"__metadata__": {"epoch": 3}}
        with self.assertRaisesRegex(FormatError, "__metadata__"):
            self.parse(raw_file(header, b""))

    def test_a_file_without_tensors_is_valid(self) -> None:
        parsed = self.parse(raw_file({}, b""))
        self.assertEqual(len(parsed), 0)


class RoundTripTests(TempFolderTestCase):
    def test_written_tensors_read_back_exactly(self) -> None:
        path = self.write_model("m.safetensors", {"w": [1.0, -2.5, 3.25], "b": [0.5]}, {"format": "pt"})
        with SafetensorsFile(path) as f:
            self.assertEqual(f.names(), ["w", "b"])
            self.assertEqual(f.read_values("w"), [1.0, -2.5, 3.25])
            self.assertEqual(f.read_values("b"), [0.5])
            self.assertEqual(f.header.metadata, {"format": "pt"})

    def test_the_header_is_padded_to_eight_bytes(self) -> None:
        path = self.write_model("m.safetensors", {"x": [1.0]})
        with open(path, "rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
        self.assertEqual(length % 8, 0)

    def test_bf16_values_are_widened(self) -> None:
        halves = [0x3F80, 0xC000, 0x0000]  # 1.0, -2.0, 0.0
        path = self.path("bf16.safetensors")
        write_file(path, {"h": ("BF16", [3], struct.pack("<3H", *halves))})
        with SafetensorsFile(path) as f:
            self.assertEqual(f.read_values("h"), [1.0, -2.0, 0.0])

    def test_writing_a_wrong_length_raises_and_leaves_nothing(self) -> None:
        path = self.path("bad.safetensors")
        with self.assertRaises(ValueError):
            write_file(path, {"w": ("F32", [2], bytes(4))})
        self.assertFalse(os.path.exists(path))
        self.assertEqual([n for n in os.listdir(self.folder) if n.startswith(".tmp-")], [])

    def test_reading_a_missing_tensor_names_it(self) -> None:
        path = self.write_model("m.safetensors", {"w": [1.0]})
        with SafetensorsFile(path) as f:
            with self.assertRaisesRegex(KeyError, "no tensor named 'v'"):
                f.read_bytes("v")

    def test_a_closed_file_cannot_be_read(self) -> None:
        path = self.write_model("m.safetensors", {"w": [1.0]})
        f = SafetensorsFile(path)
        f.close()
        with self.assertRaisesRegex(ValueError, "is closed"):
            f.read_bytes("w")

    def test_chunks_cover_the_tensor(self) -> None:
        values = [float(i) for i in range(100)]
        path = self.write_model("m.safetensors", {"w": values})
        with SafetensorsFile(path) as f:
            chunks = list(f.iter_chunks("w", chunk_size=64))
        self.assertEqual(b"".join(chunks), f32(values))
        self.assertEqual(len(chunks), 7)


class DigestAndCompareTests(TempFolderTestCase):
    def test_digests_change_only_for_the_changed_tensor(self) -> None:
        a = self.write_model("a.safetensors", {"w": [1.0, 2.0], "b": [3.0]})
        b = self.write_model("b.safetensors", {"w": [1.0, 2.5], "b": [3.0]})
        da, db = digest_file(a), digest_file(b)
        self.assertNotEqual(da["w"], db["w"])
        self.assertEqual(da["b"], db["b"])
        self.assertNotEqual(da[""], db[""])

    def test_compare_reports_each_kind_of_difference(self) -> None:
        a = self.write_model("a.safetensors", {"same": [1.0], "changed": [1.0, 2.0], "gone": [0.0]})
        b = self.write_model("b.safetensors", {"same": [1.0], "changed": [1.0, 2.5], "new": [0.0]})
        results = {r.name: r for r in compare_files(a, b)}
        self.assertEqual(results["same"].status, "equal")
        self.assertEqual(results["changed"].status, "changed")
        self.assertEqual(results["changed"].changed, 1)
        self.assertAlmostEqual(results["changed"].max_abs, 0.5)
        self.assertEqual(results["gone"].status, "removed")
        self.assertEqual(results["new"].status, "added")

    def test_merge_joins_shards_and_refuses_duplicates(self) -> None:
        one = self.write_model("1.safetensors", {"a": [1.0]})
        two = self.write_model("2.safetensors", {"b": [2.0]})
        merged = self.path("merged.safetensors")
        self.assertEqual(merge_files([one, two], merged), 2)
        with SafetensorsFile(merged) as f:
            self.assertEqual(f.names(), ["a", "b"])
        with self.assertRaisesRegex(ValueError, "appears in more than one shard"):
            merge_files([one, one], self.path("twice.safetensors"))


class CommandLineTests(TempFolderTestCase):
    def run_main(self, *args: str) -> Tuple[int, str]:
        import contextlib

        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = tensor_files.main(list(args))
        return code, out.getvalue()

    def test_info_lists_the_dtypes(self) -> None:
        path = self.write_model("m.safetensors", {"w": [1.0, 2.0]})
        code, text = self.run_main("info", path)
        self.assertEqual(code, 0)
        self.assertIn("1 tensors", text)
        self.assertIn("F32", text)

    def test_a_damaged_file_exits_with_code_2(self) -> None:
        path = self.write_raw("bad.safetensors", b"\x01\x00")
        code, text = self.run_main("info", path)
        self.assertEqual(code, 2)
        self.assertIn("error:", text)

    def test_diff_with_exit_code_reports_differences(self) -> None:
        a = self.write_model("a.safetensors", {"w": [1.0]})
        b = self.write_model("b.safetensors", {"w": [2.0]})
        code, text = self.run_main("diff", a, b, "--exit-code")
        self.assertEqual(code, 1)
        self.assertIn("1 different", text)


if __name__ == "__main__":
    unittest.main()
