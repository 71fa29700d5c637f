"""Writing files and folders all or nothing."""

import pytest

from sim.results.files import OutputError, check_output_dir, replace_folder, write_atomic, write_json, write_text


def test_a_file_is_the_old_one_or_the_new_one(tmp_path):
    path = tmp_path / "a.csv"
    write_text(path, "old")

    def broken(p):
        p.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, broken)
    assert path.read_text() == "old"
    write_json(path, {"new": 1})
    assert path.read_text() == '{\n  "new": 1\n}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]  # no temporary file left


def test_a_folder_is_replaced_whole_or_kept(tmp_path):
    out = tmp_path / "run"
    with replace_folder(out) as tmp:
        (tmp / "manifest.json").write_text("{}")
        (tmp / "results.csv").write_text("1")
    with pytest.raises(RuntimeError):
        with replace_folder(out) as tmp:
            (tmp / "manifest.json").write_text("{}")
            (tmp / "results.csv").write_text("2")
            raise RuntimeError("failed half-way")
    assert (out / "results.csv").read_text() == "1"
    with replace_folder(out) as tmp:
        (tmp / "manifest.json").write_text("{}")
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_only_an_empty_folder_or_one_of_ours_is_replaced(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    check_output_dir(mine)  # empty
    (mine / "thesis.docx").write_text("precious")
    with pytest.raises(OutputError, match="exists and is not a results folder of this tool"):
        with replace_folder(mine):
            pass
    check_output_dir(mine, marker="thesis.docx")
    assert [p.name for p in mine.iterdir()] == ["thesis.docx"]
