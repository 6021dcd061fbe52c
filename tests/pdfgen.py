"""A minimal PDF writer for synthetic test letters (Helvetica text, one line per row).

Run as a script to regenerate the bundled sample PDF.
"""

from __future__ import annotations

import sys
from pathlib import Path


def _escape(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: list[list[str]]) -> bytes:
    """A PDF whose pages hold the given lines, top to bottom."""
    objects: list[bytes] = []
    n_pages = len(pages)
    font_id = 3 + 2 * n_pages
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    for i, lines in enumerate(pages):
        content_id = 4 + 2 * i
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_id} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        ops = ["BT", "/F1 10 Tf", "12 TL", "50 750 Td"]
        for line in lines:
            ops.append(f"({_escape(line)}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


SAMPLE_PAGES = [
    [
        "Case Number: CM17-9900002",
        "Date Assigned: 01/12/2017 Date of Injury: 07/04/2013",
        "Decision Date: 02/06/2017 UR Denial Date: 12/22/2016",
        "Priority: Standard Application",
        "Received:",
        "01/05/2017",
        "HOW THE IMR FINAL DETERMINATION WAS MADE",
        "MAXIMUS Federal Services sent the complete case file to an expert reviewer with no",
        "affiliation with the parties. He/she has been in active practice for over five years.",
        "The Expert Reviewer has the following credentials:",
        "State(s) of Licensure: Arizona",
        "Certification(s)/Specialty: Anesthesiology, Pain Management",
        "CLINICAL CASE SUMMARY",
        "The expert reviewer developed the following clinical case summary based on a review of the",
        "case file, including all medical records:",
        "The injured worker is a 62 year old female who slipped on a wet floor on 7-4-13. She has",
        "chronic low back pain with lumbar radiculopathy. On 12-1-16 she rated pain 8/10 without",
        "and 5/10 with medication. Treatment has included Tramadol ER 150mg daily and gabapentin.",
        "IMR ISSUES, DECISIONS AND RATIONALES",
        "The Final Determination was based on decisions for the disputed items/services set forth below:",
        "Tramadol ER 150mg #30: Upheld",
        "Claims Administrator guideline: Decision based on MTUS Chronic Pain Medical Treatment 2016,",
        "Section(s): Opioids, specific drug list.",
        "MAXIMUS guideline: Decision based on MTUS Chronic Pain Medical Treatment 2016, Section(s):",
        "Opioids, criteria for use.",
        "Decision rationale: There is no documented improvement in function and no recent drug",
    ],
    [
        "screen, so ongoing use of the opioid is not medically necessary.",
        "Aquatic therapy for the lumbar spine, eight sessions: Overturned",
        "Claims Administrator guideline: Decision based on MTUS Chronic Pain Medical Treatment 2016,",
        "Section(s): Aquatic therapy.",
        "MAXIMUS guideline: Decision based on MTUS Chronic Pain Medical Treatment 2016, Section(s):",
        "Aquatic therapy.",
        "Decision rationale: Reduced weight bearing is desirable for this worker with obesity, and",
        "eight sessions fall within guideline limits, so the request is medically necessary.",
    ],
]

if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "pipeline/imr_extract/samples")
    (target / "CM17-9900002.pdf").write_bytes(make_pdf(SAMPLE_PAGES))
    print(f"wrote {target / 'CM17-9900002.pdf'}")
