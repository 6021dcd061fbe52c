"""Synthetic rationales, one per way reviewers commonly state a reason (written for the tests,
not taken from any letter): (item, outcome, rationale, {code: words its evidence starts with})."""

CONCLUSION = " Therefore, the request is not medically necessary."
OVERTURNED = " Therefore, the request is medically necessary."

PROBES = [
    # not_recommended: the guideline's verdict
    (
        "Ketoprofen 20% cream 120g",
        "Upheld",
        "Topical ketoprofen is not currently FDA approved for topical application." + CONCLUSION,
        {"not_recommended": "Topical ketoprofen"},
    ),
    (
        "Platelet rich plasma injection, right elbow",
        "Upheld",
        "The ODG considers platelet rich plasma injections experimental for this condition."
        + CONCLUSION,
        {"not_recommended": "The ODG considers"},
    ),
    (
        "Interferential unit purchase",
        "Upheld",
        "Interferential current stimulation is not recommended as an isolated intervention, and "
        "there is insufficient evidence of its efficacy." + CONCLUSION,
        {"not_recommended": "Interferential current"},
    ),
    (
        "Soma 350mg #60",
        "Upheld",
        "The MTUS does not recommend carisoprodol, and the guidelines recommend against its use."
        + CONCLUSION,
        {"not_recommended": "The MTUS does not"},
    ),
    # first_line_not_tried: other treatment first
    (
        "Lidoderm 5% patch #30",
        "Upheld",
        "The guideline allows topical lidocaine only once first-line agents have been tried. "
        "The records show no trial and failure of antidepressants or anticonvulsants." + CONCLUSION,
        {"first_line_not_tried": "The records show no trial and failure"},
    ),
    (
        "Lumbar epidural steroid injection L4-5",
        "Upheld",
        "Radiculopathy is documented on examination. However, the patient has not failed a course "
        "of conservative treatment such as physical therapy and NSAIDs." + CONCLUSION,
        {"first_line_not_tried": "However, the patient has not failed"},
    ),
    (
        "Right shoulder arthroscopy",
        "Upheld",
        "The records do not show that the injured worker has exhausted conservative care, including "
        "injections and a home exercise program, for at least three months." + CONCLUSION,
        {"first_line_not_tried": "The records do not show"},
    ),
    (
        "MRI of the cervical spine",
        "Upheld",
        "The claimant has only attended two sessions of physical therapy to date and is still "
        "undergoing conservative treatment." + CONCLUSION,
        {"first_line_not_tried": "The claimant has only attended"},
    ),
    # no_functional_improvement: prior use without benefit
    (
        "Tramadol 50mg #60",
        "Upheld",
        "The patient has been taking tramadol for over a year. The records do not document any "
        "quantified pain relief or improvement in activities of daily living with its use."
        + CONCLUSION,
        {"no_functional_improvement": "The records do not document any quantified"},
    ),
    (
        "Additional chiropractic treatment 6 sessions",
        "Upheld",
        "The patient has completed 12 chiropractic visits without objective functional improvement."
        + CONCLUSION,
        {"no_functional_improvement": "The patient has completed 12"},
    ),
    (
        "Repeat cervical facet injection",
        "Upheld",
        "The prior injection provided no significant relief and there was no decrease in medication use."
        + CONCLUSION,
        {"no_functional_improvement": "The prior injection"},
    ),
    (
        "Gabapentin 600mg #90",
        "Upheld",
        "Continued use of an antiepileptic requires documented benefit. The provider did not "
        "describe the efficacy of gabapentin or any change in function since it was started."
        + CONCLUSION,
        {"no_functional_improvement": "The provider did not describe"},
    ),
    # criteria_not_documented: findings the guideline requires
    (
        "EMG of the bilateral upper extremities",
        "Upheld",
        "The submitted notes do not describe any focal neurological deficits, numbness or weakness "
        "in the upper extremities." + CONCLUSION,
        {"criteria_not_documented": "The submitted notes"},
    ),
    (
        "MRI of the lumbar spine",
        "Upheld",
        "There are no red flag signs and no objective findings of nerve root compromise on the "
        "most recent examination." + CONCLUSION,
        {"criteria_not_documented": "There are no red flag"},
    ),
    (
        "Omeprazole 20mg #60",
        "Upheld",
        "There is no documentation that the patient is at intermediate or high risk for "
        "gastrointestinal events." + CONCLUSION,
        {"criteria_not_documented": "There is no documentation that the patient"},
    ),
    (
        "Home health aide 4 hours a day",
        "Upheld",
        "The medical records do not establish that the claimant is homebound." + CONCLUSION,
        {"criteria_not_documented": "The medical records do not establish"},
    ),
    # exceeds_guideline: over the limit or long-term use of a short-term drug
    (
        "Physical therapy 12 visits for the knee",
        "Upheld",
        "The guidelines allow 9 visits over 8 weeks. The patient has already completed 10 visits, "
        "and the request would exceed the recommended number of visits." + CONCLUSION,
        {"exceeds_guideline": "The patient has already completed 10"},
    ),
    (
        "Cyclobenzaprine 10mg #90",
        "Upheld",
        "Muscle relaxants are recommended for short-term use only. The patient has been taking "
        "cyclobenzaprine on a long-term basis." + CONCLUSION,
        {"exceeds_guideline": "The patient has been taking cyclobenzaprine"},
    ),
    (
        "Acupuncture 12 sessions",
        "Upheld",
        "The requested number of sessions is greater than the recommended initial trial of 3 to 6 "
        "treatments." + CONCLUSION,
        {"exceeds_guideline": "The requested number"},
    ),
    (
        "TENS unit purchase",
        "Upheld",
        "A one-month rental trial is recommended before purchase. The request for purchase exceeds "
        "the guideline recommendation." + CONCLUSION,
        {"exceeds_guideline": "The request for purchase exceeds"},
    ),
    # opioid_monitoring: the 4 A's and their tools
    (
        "Oxycodone 10mg #120",
        "Upheld",
        "There is no documentation of a signed opioid agreement, urine toxicology or a CURES "
        "report." + CONCLUSION,
        {"opioid_monitoring": "There is no documentation of a signed"},
    ),
    (
        "Norco 10/325mg #120",
        "Upheld",
        "The provider has not documented the four A's of ongoing opioid management, including "
        "aberrant drug-taking behaviors." + CONCLUSION,
        {"opioid_monitoring": "The provider has not documented"},
    ),
    # request_incomplete: the request lacks a term
    (
        "Physical therapy for the lumbar spine",
        "Upheld",
        "The request does not specify the number of sessions requested." + CONCLUSION,
        {"request_incomplete": "The request does not specify"},
    ),
    (
        "Naproxen 550mg",
        "Upheld",
        "The quantity and frequency of the medication were not specified in the request."
        + CONCLUSION,
        {"request_incomplete": "The quantity and frequency"},
    ),
    (
        "Knee brace",
        "Upheld",
        "The request as written does not indicate the side for which the brace is intended."
        + CONCLUSION,
        {"request_incomplete": "The request as written"},
    ),
    # depends_on_denied: serves a surgery that was not certified
    (
        "Associated surgical service: Assistant surgeon",
        "Upheld",
        "Since the primary surgical procedure is not medically necessary, none of the associated "
        "services are medically necessary.",
        {"depends_on_denied": "Since the primary surgical"},
    ),
    (
        "Post-operative cold therapy unit rental",
        "Upheld",
        "The requested knee arthroscopy has not been certified; therefore the post-operative "
        "cold therapy unit is also not needed.",
        {"depends_on_denied": "The requested knee arthroscopy"},
    ),
    # weaning
    (
        "Norco 10/325mg #60",
        "Upheld",
        "There is no documentation of functional improvement with Norco. The medication should be "
        "tapered to avoid withdrawal symptoms." + CONCLUSION,
        {
            "no_functional_improvement": "There is no documentation",
            "weaning": "The medication should",
        },
    ),
    (
        "Xanax 1mg #60",
        "Upheld",
        "Benzodiazepines are not recommended for long-term use, and the patient has taken Xanax "
        "for over a year. A gradual dose reduction is advised." + CONCLUSION,
        {"exceeds_guideline": "Benzodiazepines are not recommended", "weaning": "A gradual dose"},
    ),
    # criteria_met
    (
        "MRI of the left knee",
        "Overturned",
        "The patient has mechanical symptoms and a positive McMurray test after six weeks of "
        "therapy. The guideline criteria have been met." + OVERTURNED,
        {"criteria_met": "The guideline criteria have been met"},
    ),
    (
        "Physical therapy 6 visits",
        "Overturned",
        "The documentation supports the request, which is within the guideline recommendation for "
        "this condition." + OVERTURNED,
        {"criteria_met": "The documentation supports"},
    ),
    # other
]

# more ways of saying each reason
PROBES += [
    (
        "Compounded cream with gabapentin 10%",
        "Upheld",
        "There is a lack of evidence-based literature supporting topical gabapentin." + CONCLUSION,
        {"not_recommended": "There is a lack of evidence-based"},
    ),
    (
        "Functional capacity evaluation",
        "Upheld",
        "There is no high-quality evidence that this evaluation changes the course of care."
        + CONCLUSION,
        {"not_recommended": "There is no high-quality"},
    ),
    (
        "Ondansetron 8mg #30",
        "Upheld",
        "Ondansetron is not indicated for nausea caused by chronic opioid use, and it is only "
        "FDA-approved for chemotherapy and postoperative use." + CONCLUSION,
        {"not_recommended": "Ondansetron is not indicated"},
    ),
    (
        "Chiropractic care 8 visits",
        "Upheld",
        "The patient has had chiropractic care before, but no significant change in pain scores or "
        "function was reported after the last sessions." + CONCLUSION,
        {"no_functional_improvement": "The patient has had chiropractic"},
    ),
    (
        "Meloxicam 15mg #30",
        "Upheld",
        "The patient continues to rate pain at 8/10 despite the ongoing use of meloxicam."
        + CONCLUSION,
        {"no_functional_improvement": "The patient continues to rate"},
    ),
    (
        "EMG/NCV of the lower extremities",
        "Upheld",
        "The neurological examination of the lower extremities is normal, with intact sensation "
        "and reflexes." + CONCLUSION,
        {"criteria_not_documented": "The neurological examination"},
    ),
    (
        "Repeat MRI of the lumbar spine",
        "Upheld",
        "It is unclear why a repeat study is needed, as no significant change in symptoms or "
        "findings is described." + CONCLUSION,
        {"criteria_not_documented": "It is unclear why"},
    ),
    (
        "Physical therapy 12 sessions",
        "Upheld",
        "The request for 12 sessions is more than the 6 sessions the guidelines support for this "
        "diagnosis." + CONCLUSION,
        {"exceeds_guideline": "The request for 12 sessions"},
    ),
    (
        "Zolpidem 10mg #30",
        "Upheld",
        "Guidelines do not support use for longer than 6 weeks, and the patient has been taking "
        "zolpidem for several months." + CONCLUSION,
        {"exceeds_guideline": "Guidelines do not support use"},
    ),
    (
        "MRI of the right knee",
        "Upheld",
        "The records do not indicate that the injured worker has undergone a trial of physical "
        "therapy or activity modification." + CONCLUSION,
        {"first_line_not_tried": "The records do not indicate"},
    ),
    (
        "Oxycontin 20mg #60",
        "Upheld",
        "No opioid risk tool or other screening for misuse was completed, and there is no recent "
        "drug test on file." + CONCLUSION,
        {"opioid_monitoring": "No opioid risk tool"},
    ),
    (
        "Flexeril 10mg",
        "Upheld",
        "The request is for an unknown quantity and no frequency was given." + CONCLUSION,
        {"request_incomplete": "The request is for an unknown"},
    ),
    (
        "Post-operative physical therapy 12 visits",
        "Upheld",
        "The associated surgery was non-certified, so postoperative therapy is not needed.",
        {"depends_on_denied": "The associated surgery"},
    ),
    (
        "Ativan 1mg #60",
        "Upheld",
        "Benzodiazepines are not recommended for long-term use. Discontinuation should be done "
        "gradually to avoid withdrawal." + CONCLUSION,
        {"weaning": "Discontinuation should"},
    ),
    # evidence: the sentence about this patient before a general one that names the same finding
    (
        "CT of the lumbar spine",
        "Upheld",
        "Imaging without red flags or neurological deficits is of little value. The patient has "
        "no neurological deficits on examination." + CONCLUSION,
        {"criteria_not_documented": "The patient has no neurological"},
    ),
    (
        "Lumbar MRI",
        "Overturned",
        "The patient has progressive weakness and a positive straight leg raise after a failed "
        "course of physical therapy, which meets the criteria for imaging." + OVERTURNED,
        {"criteria_met": "The patient has progressive weakness"},
    ),
]

# negation traps: affirmed statements that must not give the negated codes
TRAPS = [
    (
        "Tramadol 50mg #60",
        "Overturned",
        "There is documentation of functional improvement and pain relief with tramadol, and urine "
        "drug screens have been consistent." + OVERTURNED,
        {"no_functional_improvement", "opioid_monitoring"},
    ),
    (
        "MRI of the lumbar spine",
        "Upheld",
        "The patient failed a course of physical therapy. There are no red flags on examination."
        + CONCLUSION,
        {"first_line_not_tried"},
    ),
    # a guideline time limit not applied to this patient is not an excess
    (
        "Xanax 0.5mg #30",
        "Upheld",
        "Benzodiazepines are not recommended for long-term use. There is no documentation of "
        "the anxiety symptoms being treated." + CONCLUSION,
        {"exceeds_guideline"},
    ),
    (
        "Ibuprofen 800mg #90",
        "Upheld",
        "Ibuprofen was started last week. The treating physician did not document a "
        "gastrointestinal history." + CONCLUSION,
        {"no_functional_improvement", "other"},
    ),
]
