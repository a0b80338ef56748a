import pytest

from knowledge_base.chunking import chunk_document
from knowledge_base.documents import load_directory

HTML = """<html><head><title>Safe deposit boxes</title>
<meta name="doc-id" content="prod-sdb-html"><meta name="category" content="branches">
<script>var x = 1;</script></head>
<body><nav>menu</nav><h1>Safe deposit boxes</h1><p>Rent a box at any branch.</p>
<h2>Sizes and fees</h2><p>A small box costs $60 a year and a large box $150 a year.</p></body></html>"""


def make_pdf(text: str) -> bytes:
    """A minimal one-page PDF with Helvetica text, written by hand (no PDF library needed)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def test_html_pdf_and_broken_pdf(tmp_path):
    (tmp_path / "sdb.html").write_text(HTML)
    (tmp_path / "notice.pdf").write_bytes(make_pdf("Branches close at 5 pm on Christmas Eve."))
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    result = load_directory(tmp_path)
    docs = {d.doc_id: d for d in result.documents}
    assert set(docs) == {"prod-sdb-html", "pdf-notice"}
    assert list(result.failed) == [str(tmp_path / "broken.pdf")]
    html = docs["prod-sdb-html"]
    assert html.category == "branches" and "menu" not in html.body and "var x" not in html.body
    chunks = chunk_document(html)
    assert [c.section for c in chunks] == ["", "Sizes and fees"] and "$60" in chunks[1].text
    assert "Christmas Eve" in chunk_document(docs["pdf-notice"])[0].text


def test_an_html_doc_id_follows_the_doc_id_rules(tmp_path):
    from knowledge_base.documents import DocumentError, load_file

    for bad in ("../../etc/passwd", "Fees_Checking", "x", "a" * 90, "fees checking", "<script>"):
        page = tmp_path / "page.html"
        page.write_text(HTML.replace('content="prod-sdb-html"', f'content="{bad}"'))
        with pytest.raises(DocumentError, match="document id"):
            load_file(page)
    page.write_text(HTML.replace('<meta name="doc-id" content="prod-sdb-html">', ""))
    assert load_file(page).doc_id == "html-page"  # no meta: the id comes from the file name
