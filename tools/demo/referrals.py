"""Seeds the referral domain on top of the demo accounts, so every screen of the apps has data.

Runs inside the caller's unit of work and writes straight through the repositories (no
services, so no audit rows):

* 8 insurance plans; 17 more providers without accounts (36 in all across 13 receiving
  specialties, some not accepting new patients); for every provider a location with coordinates
  in the Portland metro area and a varied set of accepted plans; Oak Street Family Practice's
  network links (Riverside and Summit providers except a few, so out-of-network exists);
* one protocol (required fields and attachments, SLA per priority) per receiving organization
  and specialty it has specialists in;
* 60 fictional patients, mostly Oak Street's, with MRNs unique per organization and coverage;
* 200 referrals across every status, priority and receiving specialty, created over the last
  90 days. Each one is replayed step by step with the service's rules (legal transitions, the
  right actor, deadlines and ``due_at``), so its row, timeline, appointments and documents agree.

Deterministic: one ``random.Random(2026)``; every time is relative to ``utcnow()``.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from backend.accounts import repository as accounts
from backend.core.clock import utcnow
from backend.core.validation import npi_with_check_digit
from backend.directory import repository as directory
from backend.directory.codes import NetworkStatus
from backend.messaging import repository as conversations
from backend.messaging.records import Conversation
from backend.patients import repository as patients
from backend.protocols import repository as protocols
from backend.protocols.codes import DocumentKind, RequiredField
from backend.protocols.policy import DEFAULT_SLA, Deadline, Policy
from backend.referrals import lifecycle
from backend.referrals import repository as referrals
from backend.referrals.codes import (
    AppointmentStatus,
    CancelReason,
    DeclineReason,
    InsuranceStatus,
    PriorAuthStatus,
)
from backend.referrals.lifecycle import Action, Priority, Status
from backend.referrals.service import NO_DEADLINE, REPORT_DUE_DAYS

Row = dict[str, Any]
SEED = 2026
RIVERSIDE = "riverside.example"
SUMMIT = "summit.example"
OAK_STREET = "oakstreet.example"
RECEIVING_ORGANIZATIONS = (RIVERSIDE, SUMMIT)
SHORT_NAMES = {RIVERSIDE: "Riverside", SUMMIT: "Summit", OAK_STREET: "Oak Street"}
# Who refers where: Oak Street to both health systems, each system to the other one.
REACHABLE = {OAK_STREET: (RIVERSIDE, SUMMIT), RIVERSIDE: (SUMMIT,), SUMMIT: (RIVERSIDE,)}
EXTRA_NPI_BASE = 123_457_000
VALID_DAYS = 60
HISTORY_DAYS = 89
CREATE = "CREATE"


# --- what demo.py hands over -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SeededProvider:
    key: str  # the user's e-mail, or a slug for a provider without an account
    id: UUID
    name: str
    organization: str  # the organization's domain
    specialties: tuple[str, ...]
    user_id: UUID | None
    receives: bool  # a specialist other organizations refer to
    accepting: bool = True


@dataclass(slots=True)
class SeededAccounts:
    """What the account seed created: the referral seed builds on it."""

    organization_ids: dict[str, UUID] = field(default_factory=dict)  # by domain
    user_ids: dict[str, UUID] = field(default_factory=dict)  # by e-mail
    specialty_ids: dict[str, UUID] = field(default_factory=dict)  # by code
    specialty_names: dict[str, str] = field(default_factory=dict)  # by code
    providers: list[SeededProvider] = field(default_factory=list)


# --- directory -------------------------------------------------------------------------------

# (code, payer, name, member id prefix)
PLANS: tuple[tuple[str, str, str, str], ...] = (
    ("AETNA-CHOICE-POS-II", "Aetna", "Aetna Choice POS II", "W"),
    ("BCBS-PPO", "BlueCross BlueShield", "BlueCross PPO", "XOB"),
    ("MEDICARE-PART-B", "Medicare", "Medicare Part B", "1EG"),
    ("MEDICAID", "State Medicaid", "Medicaid", "MCD"),
    ("UHC-CHOICE-PLUS", "UnitedHealthcare", "UnitedHealthcare Choice Plus", "UHC"),
    ("CIGNA-OPEN-ACCESS", "Cigna", "Cigna Open Access Plus", "U"),
    ("HUMANA-GOLD-PLUS", "Humana", "Humana Gold Plus HMO", "H"),
    ("KAISER-HMO", "Kaiser Permanente", "Kaiser HMO", "KP"),
)
MEDICARE_PLANS = ("MEDICARE-PART-B", "HUMANA-GOLD-PLUS")
WORKING_AGE_PLANS = ("AETNA-CHOICE-POS-II", "BCBS-PPO", "MEDICAID", "UHC-CHOICE-PLUS", "CIGNA-OPEN-ACCESS")

# (domain, slug, name, specialty, accepting new patients)
EXTRA_PROVIDERS: tuple[tuple[str, str, str, str, bool], ...] = (
    (RIVERSIDE, "bell", "Dr. Marcus Bell", "cardiology", False),
    (RIVERSIDE, "rahman", "Dr. Aisha Rahman", "neurology", True),
    (RIVERSIDE, "weiss", "Dr. Hannah Weiss", "endocrinology", False),
    (RIVERSIDE, "herrera", "Dr. Tomas Herrera", "orthopedics", True),
    (RIVERSIDE, "iyer", "Dr. Ravi Iyer", "gastroenterology", True),
    (RIVERSIDE, "dubois", "Dr. Claire Dubois", "dermatology", True),
    (RIVERSIDE, "osei", "Dr. Victor Osei", "pulmonology", True),
    (RIVERSIDE, "costa", "Dr. Beatriz Costa", "rheumatology", True),
    (RIVERSIDE, "park", "Dr. Naomi Park", "urology", True),
    (RIVERSIDE, "mehta", "Dr. Arjun Mehta", "ophthalmology", True),
    (SUMMIT, "becker", "Dr. Julia Becker", "oncology", True),
    (SUMMIT, "moreau", "Dr. Daniel Moreau", "neurology", False),
    (SUMMIT, "zahra", "Dr. Fatima Zahra", "endocrinology", True),
    (SUMMIT, "pereira", "Dr. Lucas Pereira", "orthopedics", True),
    (SUMMIT, "holm", "Dr. Ingrid Holm", "nephrology", False),
    (SUMMIT, "sato", "Dr. Kenji Sato", "gastroenterology", True),
    (SUMMIT, "grant", "Dr. Olivia Grant", "psychiatry", True),
)
# Riverside and Summit providers Oak Street has no contract with.
OUTSIDE_OAK_STREET_NETWORK = frozenset(
    {"dr.ali@summit.example", "dubois@riverside.example", "sato@summit.example", "grant@summit.example"}
)

# (name, address, latitude, longitude)
SITES: dict[str, tuple[tuple[str, str, float, float], ...]] = {
    RIVERSIDE: (
        ("Riverside Medical Center", "1200 NE Riverside Pkwy, Portland, OR 97232", 45.5289, -122.6560),
        ("Riverside Heart & Specialty Institute", "415 SE Water Ave, Portland, OR 97214", 45.5163, -122.6651),
        ("Riverside Gresham Clinic", "2850 NE Hogan Dr, Gresham, OR 97030", 45.5209, -122.4310),
        (
            "Riverside Vancouver Specialty Center",
            "1010 E Mill Plain Blvd, Vancouver, WA 98663",
            45.6296,
            -122.6620,
        ),
        ("Riverside Lake Oswego Clinic", "400 A Ave, Lake Oswego, OR 97034", 45.4183, -122.6709),
    ),
    SUMMIT: (
        ("Summit Medical Plaza", "9800 SW Summit Blvd, Beaverton, OR 97005", 45.4871, -122.8037),
        ("Summit Hillsboro Clinic", "335 SE 8th Ave, Hillsboro, OR 97123", 45.5196, -122.9812),
        ("Summit Tigard Specialty Center", "12100 SW Main St, Tigard, OR 97223", 45.4306, -122.7718),
        ("Summit Oregon City Clinic", "1500 Division St, Oregon City, OR 97045", 45.3461, -122.5948),
    ),
    OAK_STREET: (("Oak Street Family Practice", "10725 SE Oak St, Milwaukie, OR 97222", 45.4446, -122.6390),),
}


# --- protocols -------------------------------------------------------------------------------

F = RequiredField
PROTOCOL_RULES: dict[str, tuple[tuple[RequiredField, ...], tuple[DocumentKind, ...]]] = {
    "cardiology": ((F.REASON, F.CLINICAL_QUESTION, F.DIAGNOSES), (DocumentKind.ECG,)),
    "dermatology": ((F.REASON, F.CLINICAL_QUESTION), ()),
    "endocrinology": ((F.REASON, F.CLINICAL_QUESTION, F.DIAGNOSES), ()),
    "gastroenterology": ((F.REASON, F.CLINICAL_QUESTION, F.DIAGNOSES), ()),
    "nephrology": ((F.REASON, F.RELEVANT_HISTORY, F.DIAGNOSES), (DocumentKind.LAB_RESULTS,)),
    "neurology": ((F.REASON, F.CLINICAL_QUESTION, F.RELEVANT_HISTORY), ()),
    "oncology": ((F.REASON, F.CLINICAL_QUESTION, F.RELEVANT_HISTORY, F.DIAGNOSES), (DocumentKind.IMAGING,)),
    "ophthalmology": ((F.REASON,), ()),
    "orthopedics": ((F.REASON, F.CLINICAL_QUESTION, F.RELEVANT_HISTORY), ()),
    "psychiatry": ((F.REASON, F.CLINICAL_QUESTION, F.RELEVANT_HISTORY), ()),
    "pulmonology": ((F.REASON, F.CLINICAL_QUESTION, F.DIAGNOSES), ()),
    "rheumatology": ((F.REASON, F.CLINICAL_QUESTION, F.DIAGNOSES), ()),
    "urology": ((F.REASON, F.DIAGNOSES), ()),
}
# (respond hours, schedule days) for STAT, URGENT, ROUTINE where a specialty differs from the default.
SLA_OVERRIDES: dict[str, tuple[tuple[int, int], tuple[int, int], tuple[int, int]]] = {
    "oncology": ((4, 1), (24, 5), (48, 14)),
    "dermatology": ((8, 3), (48, 10), (120, 45)),
    "psychiatry": ((2, 1), (24, 7), (96, 30)),
}


# --- patients --------------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FEMALE_NAMES = _words(
    "Amelia Beatrice Camila Delphine Eleanor Farah Greta Hazel Imogen Josephine Keiko Lucia Marisol "
    "Nadia Opal Priya Rosalind Sabine Thea Winifred Yara Zofia Ingrid Leona Matilda"
)
MALE_NAMES = _words(
    "Abel Bartholomew Cormac Desmond Elias Felix Gideon Horace Ignatius Jasper Kofi Leopold Malcolm "
    "Nikolai Osvaldo Percival Quentin Rafael Silas Tobias Ulrich Vikram Wendell Xavier Yusuf"
)
FAMILY_NAMES = _words(
    "Abernathy Bellweather Castellanos Delacroix Ellison Fairweather Galloway Hargrove Ingleby "
    "Jessup Kowalczyk Lindqvist Marchetti Nakashima Okonjo Pemberton Quintana Rasmussen Saltonstall "
    "Thistlewood Umberger Vanterpool Whitcombe Yarborough Zeller Ashdown Brightwater Cavendish "
    "Dunmore Everhart Fenwick Greenleaf Holloway Ironside Juniper Kingsley Larkspur Merriweather "
    "Northcott Oakhurst Penrose Quimby Redfern Stillwater Tolliver Upshaw Vickery Wexley Yardley "
    "Zamora Achterberg Blackwood Coldwell Dovecote Emberly Foxworth Gladstone Hawthorne Inkster "
    "Marlowe"
)
# (domain, MRN prefix, how many)
PATIENT_GROUPS = ((OAK_STREET, "OS", 40), (RIVERSIDE, "RV", 10), (SUMMIT, "SM", 10))


@dataclass(frozen=True, slots=True)
class SeededPatient:
    id: UUID
    organization: str
    sex: str


# --- clinical content ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scenario:
    reason: str
    question: str
    history: str
    diagnoses: tuple[str, ...]
    outcome: str
    sex: str | None = None


S = Scenario
SCENARIOS: dict[str, tuple[Scenario, ...]] = {
    "cardiology": (
        S(
            "Intermittent palpitations with an irregular pulse noted in clinic.",
            "Please evaluate for paroxysmal atrial fibrillation and advise on anticoagulation.",
            "Hypertension and type 2 diabetes. Two episodes of palpitations lasting about an hour this "
            "month. Office ECG: sinus rhythm with frequent PACs. CHA2DS2-VASc 3.",
            ("R00.2", "I10", "E11.9"),
            "Paroxysmal AF confirmed on a 14-day patch monitor (burden 6%). Started apixaban 5 mg BID and "
            "metoprolol succinate 25 mg daily. Echo: normal LV function. Cardiology follow-up in 3 months.",
        ),
        S(
            "Exertional chest tightness relieved by rest.",
            "Is stress testing or coronary CT angiography indicated for suspected stable angina?",
            "Former smoker (20 pack-years), hyperlipidemia on atorvastatin 40 mg. Symptoms for 6 weeks "
            "when walking uphill. Resting ECG without ischemic changes. LDL 142 mg/dL.",
            ("R07.89", "E78.5"),
            "Exercise stress echo: no inducible ischemia at 10.1 METs. Atorvastatin increased to 80 mg; "
            "no further cardiac testing needed. Return if symptoms change.",
        ),
        S(
            "New systolic murmur with exertional dyspnea.",
            "Please evaluate for aortic stenosis and the need for intervention.",
            "Grade III/VI crescendo-decrescendo murmur at the right upper sternal border, new since last "
            "year. Dyspnea after two flights of stairs. No syncope.",
            ("R01.1", "R06.09"),
            "TTE: moderate aortic stenosis (AVA 1.2 cm2, mean gradient 28 mmHg), preserved EF. No "
            "intervention now; repeat echo in 12 months or sooner with symptoms.",
        ),
        S(
            "Worsening leg edema and orthopnea despite furosemide.",
            "Please optimize heart failure therapy.",
            "HFrEF (EF 35% on echo last year). Weight up 3 kg in two weeks. BNP 890 pg/mL, creatinine "
            "1.3 mg/dL.",
            ("I50.22", "R60.0"),
            "Decompensated HFrEF. Furosemide increased to 40 mg BID; started sacubitril/valsartan and "
            "empagliflozin. Heart failure nurse clinic in 1 week with labs.",
        ),
    ),
    "dermatology": (
        S(
            "Changing pigmented lesion on the upper back.",
            "Please evaluate for melanoma and biopsy if indicated.",
            "6 mm asymmetric lesion with an irregular border, darker over 3 months per spouse. Fair skin, "
            "history of blistering sunburns. No personal history of skin cancer.",
            ("D48.5",),
            "Excisional biopsy: dysplastic nevus with moderate atypia, margins clear. No further "
            "treatment; annual full-skin examinations.",
        ),
        S(
            "Plaque psoriasis not controlled with topical steroids.",
            "Is the patient a candidate for phototherapy or a biologic?",
            "Plaques on elbows, knees and scalp, about 8% BSA. Clobetasol 0.05% and calcipotriene for 6 "
            "months with partial response. No joint pain.",
            ("L40.0",),
            "Moderate plaque psoriasis, BSA 9%. Narrowband UVB 3 times weekly; a biologic after TB "
            "screening if the response is inadequate at 12 weeks.",
        ),
        S(
            "Persistent facial rash with flushing.",
            "Please confirm the diagnosis (rosacea or cutaneous lupus) and advise treatment.",
            "Central facial erythema and papules for a year, worse with heat and alcohol. ANA negative.",
            ("L71.9",),
            "Papulopustular rosacea. Topical ivermectin 1% daily and doxycycline 40 mg for 12 weeks; "
            "trigger avoidance discussed.",
        ),
    ),
    "endocrinology": (
        S(
            "Type 2 diabetes with HbA1c above goal on three oral agents.",
            "Please advise on GLP-1 receptor agonist or basal insulin therapy.",
            "HbA1c 9.4% (was 8.7%) on metformin 1000 mg BID, sitagliptin and glipizide. BMI 34, eGFR 68.",
            ("E11.65", "E66.9"),
            "Stopped sitagliptin; started weekly semaglutide with titration. Diabetes education referral "
            "placed. Recheck HbA1c in 3 months.",
        ),
        S(
            "Thyroid nodule found on carotid ultrasound.",
            "Does this nodule need fine-needle aspiration?",
            "Incidental 1.8 cm solid hypoechoic nodule in the left thyroid lobe. TSH 1.9 mIU/L. No neck "
            "radiation history.",
            ("E04.1",),
            "TI-RADS 4 nodule; FNA benign (Bethesda II). Repeat ultrasound in 12 to 24 months.",
        ),
        S(
            "Suppressed TSH with weight loss and tremor.",
            "Please evaluate hyperthyroidism and start treatment.",
            "TSH below 0.01 mIU/L, free T4 3.1 ng/dL. 4 kg weight loss, palpitations and heat intolerance "
            "for 2 months.",
            ("E05.90", "R00.0"),
            "Graves disease (TRAb positive). Methimazole 10 mg daily and propranolol; labs every 4 to 6 "
            "weeks. Definitive options discussed.",
        ),
        S(
            "Persistent hypercalcemia.",
            "Please evaluate for primary hyperparathyroidism; is surgery indicated?",
            "Calcium 11.1 mg/dL twice, PTH 98 pg/mL, vitamin D sufficient. Kidney stone last year.",
            ("E21.0", "N20.0"),
            "Primary hyperparathyroidism meeting surgical criteria. Sestamibi localized a right inferior "
            "adenoma; referred to endocrine surgery.",
        ),
    ),
    "gastroenterology": (
        S(
            "Iron deficiency anemia without an obvious source of bleeding.",
            "Please perform EGD and colonoscopy to look for a GI source.",
            "Hemoglobin 9.8 g/dL, ferritin 6 ng/mL. No melena or hematochezia. On aspirin 81 mg daily.",
            ("D50.9",),
            "EGD: erosive gastritis, H. pylori negative. Colonoscopy: two small tubular adenomas removed. "
            "PPI for 8 weeks; stop aspirin if not required. Repeat colonoscopy in 5 years.",
        ),
        S(
            "Heartburn with new dysphagia to solids.",
            "Is endoscopy needed to rule out a stricture or Barrett's esophagus?",
            "Daily reflux for years, omeprazole 20 mg partially effective. Food sticking for 2 months. "
            "No weight loss.",
            ("K21.9", "R13.10"),
            "EGD: Schatzki ring, dilated. No Barrett's esophagus. Continue omeprazole 40 mg daily.",
        ),
        S(
            "Elevated liver enzymes with fatty liver on ultrasound.",
            "Please assess liver fibrosis and advise on management.",
            "ALT 88 U/L and AST 61 U/L for 6 months. Diffuse hepatic steatosis on ultrasound. Minimal "
            "alcohol. Hepatitis B and C serologies negative.",
            ("K76.0", "R74.01"),
            "MASLD with elastography 7.9 kPa (F2). Weight-loss target 7 to 10%; hepatology follow-up in 6 "
            "months with repeat elastography.",
        ),
        S(
            "Positive fecal immunochemical test.",
            "Please schedule a diagnostic colonoscopy.",
            "Average-risk screening FIT positive. No prior colonoscopy. No rectal bleeding or change in "
            "bowel habit.",
            ("R19.5",),
            "Colonoscopy: 12 mm sessile sigmoid polyp removed (tubular adenoma). Surveillance colonoscopy "
            "in 3 years.",
        ),
    ),
    "nephrology": (
        S(
            "Declining kidney function, CKD stage 3b.",
            "Please evaluate the cause of progression and co-manage.",
            "eGFR 41 (55 last year). Urine albumin/creatinine 420 mg/g. Long-standing diabetes and "
            "hypertension on lisinopril.",
            ("N18.32", "E11.22"),
            "Diabetic kidney disease, CKD 3b A3. Added empagliflozin 10 mg, continue lisinopril; blood "
            "pressure goal below 130/80. Nephrology follow-up every 4 months.",
        ),
        S(
            "Persistent hyponatremia.",
            "Please evaluate the cause of chronic hyponatremia.",
            "Sodium 127 to 129 mmol/L over 3 months, asymptomatic. On sertraline and "
            "hydrochlorothiazide. Euvolemic on exam.",
            ("E87.1",),
            "Likely thiazide- and SSRI-associated. Hydrochlorothiazide switched to amlodipine; sodium 134 "
            "after 3 weeks. No further nephrology follow-up needed.",
        ),
        S(
            "Proteinuria and microscopic hematuria.",
            "Is a kidney biopsy indicated?",
            "Urine protein/creatinine 1.6 g/g with dysmorphic red cells. Creatinine 1.1 mg/dL, normal "
            "complement levels.",
            ("R80.9", "R31.29"),
            "Kidney biopsy: IgA nephropathy. Maximal ACE inhibition; recheck proteinuria in 3 months.",
        ),
    ),
    "neurology": (
        S(
            "Chronic migraine, more than 15 headache days a month.",
            "Please advise on preventive therapy.",
            "Migraine without aura since adolescence, now near-daily. Topiramate (cognitive side effects) "
            "and propranolol failed. Sumatriptan on 10 or more days a month.",
            ("G43.709", "G44.40"),
            "Chronic migraine with medication-overuse headache. Started erenumab monthly, triptans at "
            "most 2 days a week, headache diary. Follow-up in 3 months.",
        ),
        S(
            "First unprovoked seizure.",
            "Please evaluate and advise on antiseizure medication and driving.",
            "Witnessed generalized tonic-clonic seizure 10 days ago; CT head in the ED normal. No prior "
            "events. Sleep-deprived at the time.",
            ("R56.9",),
            "EEG: left temporal sharp waves; MRI normal. Levetiracetam 500 mg BID. No driving for 6 "
            "months per state law.",
        ),
        S(
            "Progressive numbness and tingling in both feet.",
            "Please evaluate the peripheral neuropathy; EMG if indicated.",
            "Symmetric stocking-distribution paresthesias for 8 months. B12 210 pg/mL, HbA1c 6.1%. No "
            "weakness.",
            ("G62.9", "R20.2"),
            "EMG/NCS: length-dependent axonal sensorimotor polyneuropathy. B12 replacement started; "
            "recheck in 3 months.",
        ),
        S(
            "Resting tremor of the right hand.",
            "Please evaluate for Parkinson's disease.",
            "Slowly progressive right-hand rest tremor for a year, smaller handwriting, reduced arm swing.",
            ("R25.1",),
            "Clinical diagnosis of early Parkinson's disease. Carbidopa/levodopa 25/100 TID; physical "
            "therapy referral.",
        ),
    ),
    "oncology": (
        S(
            "Newly diagnosed left breast cancer on core biopsy.",
            "Please see for treatment planning.",
            "Palpable 2.3 cm left breast mass; core biopsy: invasive ductal carcinoma, ER/PR positive, "
            "HER2 negative. No palpable axillary nodes.",
            ("C50.912",),
            "Stage IA ER+/PR+/HER2- IDC. Lumpectomy with sentinel node biopsy, then radiation and "
            "adjuvant endocrine therapy; Oncotype DX on the surgical specimen.",
            "FEMALE",
        ),
        S(
            "Lung mass on CT with mediastinal lymphadenopathy.",
            "Please expedite staging and treatment planning.",
            "Former smoker (40 pack-years). CT chest: 3.1 cm right upper lobe mass, enlarged subcarinal "
            "nodes. 5 kg weight loss.",
            ("R91.8", "R59.0"),
            "EBUS biopsy: adenocarcinoma, stage IIIA, PD-L1 60%, no actionable mutations. Tumor board: "
            "concurrent chemoradiation followed by durvalumab.",
        ),
        S(
            "Unexplained lymphadenopathy with night sweats.",
            "Please evaluate for lymphoma.",
            "Painless 3 cm left supraclavicular node for 6 weeks, drenching night sweats, LDH 380 U/L.",
            ("R59.0", "R61"),
            "Excisional biopsy: classic Hodgkin lymphoma, stage IIB. ABVD chemotherapy after PET-CT and "
            "echocardiogram.",
        ),
    ),
    "ophthalmology": (
        S(
            "Elevated intraocular pressure on screening.",
            "Please evaluate for glaucoma.",
            "IOP 26 mmHg OD and 24 mmHg OS at optometry; cup-to-disc ratio 0.6. Mother has glaucoma.",
            ("H40.053",),
            "Ocular hypertension without visual field loss; OCT RNFL normal. Latanoprost nightly in both "
            "eyes; recheck in 3 months.",
        ),
        S(
            "Diabetic patient with blurred vision, overdue for a retinal exam.",
            "Please screen for diabetic retinopathy and macular edema.",
            "Type 2 diabetes for 12 years, HbA1c 8.9%. Blurred vision in the right eye for a month.",
            ("E11.9", "H53.8"),
            "Moderate nonproliferative diabetic retinopathy with center-involving macular edema OD. "
            "Monthly intravitreal anti-VEGF injections started.",
        ),
        S(
            "Glare and reduced vision when driving at night.",
            "Please evaluate the cataracts for surgery.",
            "Best-corrected vision 20/50 OD and 20/40 OS; difficulty driving at night.",
            ("H25.13",),
            "Visually significant nuclear cataracts. Right cataract surgery scheduled, left eye 4 to 6 "
            "weeks later.",
        ),
    ),
    "orthopedics": (
        S(
            "Right knee osteoarthritis failing conservative care.",
            "Is the patient a candidate for total knee arthroplasty?",
            "Knee pain for 3 years with night pain; walking limited to one block. Physical therapy, "
            "NSAIDs and two steroid injections failed. X-ray: severe medial joint space narrowing.",
            ("M17.11",),
            "Severe tricompartmental osteoarthritis. Patient elects right TKA; pre-operative clearance "
            "requested from the PCP.",
        ),
        S(
            "Shoulder pain and weakness after a fall.",
            "Please evaluate for a rotator cuff tear.",
            "Fell on an outstretched arm 5 weeks ago. Painful arc, weak abduction, positive drop-arm "
            "test. X-ray negative for fracture.",
            ("M75.101",),
            "MRI: 1.5 cm full-thickness supraspinatus tear. Arthroscopic rotator cuff repair planned.",
        ),
        S(
            "Knee instability after a twisting injury playing soccer.",
            "Please evaluate for an ACL tear.",
            "Pop and swelling 3 weeks ago; the knee gives way when pivoting. Positive Lachman test.",
            ("S83.511A",),
            "MRI: complete ACL tear with a medial meniscus tear. ACL reconstruction with meniscal repair "
            "scheduled; pre-operative physical therapy started.",
        ),
        S(
            "Low back pain with left-sided sciatica.",
            "Are imaging and a spine intervention indicated?",
            "Pain radiating down the left leg for 10 weeks, no bowel or bladder symptoms. Six weeks of "
            "physical therapy with little benefit.",
            ("M54.42",),
            "MRI: L5-S1 disc herniation contacting the left S1 root. Epidural steroid injection done; "
            "physical therapy continues.",
        ),
    ),
    "psychiatry": (
        S(
            "Major depression not responding to two SSRIs.",
            "Please advise on medication strategy and psychotherapy.",
            "PHQ-9 of 19 despite sertraline 200 mg (12 weeks) then escitalopram 20 mg (8 weeks). No "
            "suicidal ideation, no psychotic features.",
            ("F33.1",),
            "Recurrent MDD, moderate. Bupropion XL augmentation and weekly CBT. Safety plan reviewed; "
            "follow-up in 4 weeks.",
        ),
        S(
            "Possible bipolar disorder after antidepressant-induced hypomania.",
            "Please confirm the diagnosis and manage mood stabilization.",
            "Five days of reduced need for sleep, pressured speech and overspending after starting "
            "fluoxetine. Family history of bipolar disorder.",
            ("F31.9",),
            "Bipolar II disorder. Fluoxetine stopped; lamotrigine with slow titration. Psychiatry "
            "follow-up every 2 weeks during titration.",
        ),
        S(
            "Panic attacks affecting work.",
            "Please evaluate and recommend treatment for panic disorder.",
            "Three to four panic attacks a week for 4 months, now avoiding driving. Cardiac workup negative.",
            ("F41.0",),
            "Panic disorder with agoraphobic avoidance. Sertraline titrated to 100 mg and CBT referral; "
            "benzodiazepines avoided.",
        ),
    ),
    "pulmonology": (
        S(
            "Solitary pulmonary nodule on CT.",
            "Please advise on follow-up imaging or biopsy.",
            "Incidental 9 mm solid right upper lobe nodule on CT abdomen. Former smoker, quit 10 years ago.",
            ("R91.1",),
            "PET-CT: nodule not FDG-avid. Low-to-intermediate risk; repeat CT chest in 3 months.",
        ),
        S(
            "COPD with frequent exacerbations.",
            "Please optimize inhaled therapy and evaluate for pulmonary rehabilitation.",
            "Three exacerbations needing prednisone in the last year. On tiotropium. FEV1 48% predicted.",
            ("J44.1",),
            "GOLD group E COPD. Escalated to triple inhaled therapy; pulmonary rehabilitation referral; "
            "vaccines updated.",
        ),
        S(
            "Loud snoring, witnessed apneas and daytime sleepiness.",
            "Please evaluate for obstructive sleep apnea.",
            "Epworth score 15, BMI 36, resistant hypertension on three agents.",
            ("G47.33", "R06.83"),
            "Home sleep test: severe OSA (AHI 42). Auto-CPAP 5 to 15 cmH2O; adherence check in 6 weeks.",
        ),
        S(
            "Chronic cough for three months.",
            "Please evaluate a persistent cough with a normal chest X-ray.",
            "Dry cough for 12 weeks, never smoker. Chest X-ray normal, not on an ACE inhibitor, no "
            "response to a PPI trial.",
            ("R05.3",),
            "Spirometry with bronchodilator response: cough-variant asthma. ICS/formoterol started; "
            "follow-up in 8 weeks.",
        ),
    ),
    "rheumatology": (
        S(
            "Inflammatory polyarthritis of the hands.",
            "Please evaluate for rheumatoid arthritis and start a DMARD if appropriate.",
            "Symmetric MCP and PIP swelling with an hour of morning stiffness for 3 months. RF 88 IU/mL, "
            "anti-CCP strongly positive, CRP 24 mg/L.",
            ("M06.9",),
            "Seropositive rheumatoid arthritis. Methotrexate 15 mg weekly with folic acid and a short "
            "prednisone taper; labs every 4 weeks.",
        ),
        S(
            "Positive ANA with joint pain and a photosensitive rash.",
            "Please evaluate for systemic lupus erythematosus.",
            "ANA 1:640 speckled, malar rash after sun exposure, arthralgias, WBC 3.4.",
            ("R76.8", "M25.50"),
            "SLE (anti-dsDNA positive, low C3). Hydroxychloroquine 300 mg daily; baseline eye exam ordered.",
        ),
        S(
            "Recurrent gout flares despite allopurinol.",
            "Please advise on urate-lowering therapy.",
            "Four flares this year, tophus on the right first MTP. Uric acid 8.9 mg/dL on allopurinol "
            "300 mg.",
            ("M10.9",),
            "Tophaceous gout. Allopurinol titrated to 600 mg with colchicine prophylaxis; urate target "
            "below 6 mg/dL.",
        ),
        S(
            "Shoulder and hip girdle stiffness with a raised ESR.",
            "Please evaluate for polymyalgia rheumatica and features of giant cell arteritis.",
            "Two hours of morning stiffness, ESR 62 mm/h. No headache, jaw claudication or visual symptoms.",
            ("M35.3",),
            "Polymyalgia rheumatica without GCA features. Prednisone 15 mg daily tapered over 12 "
            "months; bone protection started.",
        ),
    ),
    "urology": (
        S(
            "Rising PSA.",
            "Please evaluate for prostate cancer; MRI and biopsy if indicated.",
            "PSA 6.8 ng/mL (4.1 a year ago). DRE: mildly enlarged, no nodules. No retention.",
            ("R97.20",),
            "Prostate MRI PI-RADS 4; targeted biopsy Gleason 3+4 in 2 of 14 cores. Patient chose active "
            "surveillance after discussing options.",
            "MALE",
        ),
        S(
            "Painless gross hematuria.",
            "Please complete the hematuria workup including cystoscopy.",
            "One episode of painless visible blood in the urine. Former smoker. Urinalysis 30 RBC/hpf, "
            "culture negative.",
            ("R31.0",),
            "CT urogram normal; cystoscopy: 1 cm papillary bladder tumor. TURBT scheduled.",
        ),
        S(
            "Recurrent kidney stones with a 7 mm ureteral stone.",
            "Please manage the current stone and advise on prevention.",
            "Third stone episode. CT: 7 mm right proximal ureteral stone with mild hydronephrosis. Pain "
            "controlled.",
            ("N20.1", "N13.30"),
            "Ureteroscopy with laser lithotripsy; stent removed on day 7. 24-hour urine: hypercalciuria; "
            "chlorthalidone started.",
        ),
        S(
            "Lower urinary tract symptoms from an enlarged prostate.",
            "Please advise on BPH management beyond tamsulosin.",
            "Nocturia four times a night, weak stream, IPSS 22 on tamsulosin 0.4 mg. Post-void residual "
            "150 mL.",
            ("N40.1",),
            "BPH with LUTS: finasteride 5 mg added. Surgical options (HoLEP) if no improvement in 6 months.",
            "MALE",
        ),
    ),
}
# What the specialist asks, and what the referrer answers.
INFO_EXCHANGES: dict[str, tuple[str, str]] = {
    "cardiology": (
        "Please attach the most recent echocardiogram report and a lipid panel.",
        "Echo report from last year attached; lipid panel drawn today, LDL 128 mg/dL.",
    ),
    "dermatology": (
        "Could you send a dermoscopy photo of the lesion?",
        "Photo added to the chart; the lesion measured 6 x 5 mm today.",
    ),
    "endocrinology": (
        "Please send the last three HbA1c values and any insulin doses.",
        "HbA1c 8.7% in January, 9.1% in May, 9.4% in September. Not on insulin.",
    ),
    "gastroenterology": (
        "Is the patient on anticoagulants or antiplatelets? We need this before endoscopy.",
        "Aspirin 81 mg only; no anticoagulants.",
    ),
    "nephrology": (
        "Please provide a urine albumin/creatinine ratio from the last 3 months.",
        "UACR 420 mg/g last month; a repeat is ordered.",
    ),
    "neurology": (
        "Has the patient had brain imaging? Please attach it if available.",
        "CT head from the ED visit attached; no MRI yet.",
    ),
    "oncology": (
        "Please send the full pathology report and staging imaging.",
        "Pathology and CT chest/abdomen/pelvis reports attached.",
    ),
    "ophthalmology": (
        "Please share the optometry exam including visual fields.",
        "Visual field printout from the optometry visit attached.",
    ),
    "orthopedics": (
        "Please attach weight-bearing X-rays and a summary of physical therapy.",
        "Standing X-rays attached; 12 physical therapy sessions with minimal benefit.",
    ),
    "psychiatry": (
        "Please confirm current medications and any history of suicide attempts.",
        "Escitalopram 20 mg daily. No prior attempts and no current suicidal ideation.",
    ),
    "pulmonology": (
        "Please send the most recent spirometry results.",
        "Spirometry from March attached: FEV1/FVC 0.58.",
    ),
    "rheumatology": (
        "Please send ESR, CRP and hand X-rays.",
        "ESR 48, CRP 24; hand X-rays show periarticular osteopenia without erosions.",
    ),
    "urology": (
        "Please send prior PSA values and a recent urinalysis.",
        "PSA 4.1 last year, 6.8 this month; urinalysis attached.",
    ),
}
OUT_OF_NETWORK_REASONS = (
    "Patient preference: this clinic is close to home and work.",
    "The earliest in-network appointment is more than 8 weeks out.",
    "Continuity of care: the patient was treated by this specialist before.",
    "Subspecialty expertise not available in our network.",
)
DECLINES: tuple[tuple[DeclineReason, str], ...] = (
    (DeclineReason.NO_CAPACITY, "The clinic cannot take new patients for the next 6 weeks."),
    (DeclineReason.NOT_CLINICALLY_INDICATED, "This can be managed in primary care; advice is in the note."),
    (DeclineReason.OUTSIDE_SCOPE, "This question needs a subspecialty clinic we do not offer."),
    (DeclineReason.INSURANCE_NOT_ACCEPTED, "The patient's plan is not accepted by this practice."),
    (DeclineReason.BETTER_SERVED_ELSEWHERE, "A provider closer to the patient offers this sooner."),
    (DeclineReason.INCOMPLETE_INFORMATION, "The requested records were not provided."),
    (DeclineReason.OTHER, "The patient is already under the care of another specialist in our group."),
)
# (reason, note, who cancels: "referrer" or "receiver"); leakage (went elsewhere) is the most common.
CANCELS: tuple[tuple[CancelReason, str, str], ...] = (
    (CancelReason.PATIENT_WENT_ELSEWHERE, "Patient booked with a specialist closer to home.", "referrer"),
    (
        CancelReason.PATIENT_WENT_ELSEWHERE,
        "Patient was seen through urgent care and followed up there.",
        "referrer",
    ),
    (CancelReason.PATIENT_WENT_ELSEWHERE, "Patient chose a specialist recommended by family.", "receiver"),
    (
        CancelReason.PATIENT_WENT_ELSEWHERE,
        "Patient's new employer plan steers to another system.",
        "referrer",
    ),
    (CancelReason.PATIENT_DECLINED, "Patient prefers to wait and reassess in 3 months.", "referrer"),
    (CancelReason.NO_LONGER_NEEDED, "Symptoms resolved with primary care management.", "referrer"),
    (CancelReason.PATIENT_UNREACHABLE, "Three calls and a letter without a response.", "receiver"),
    (CancelReason.DUPLICATE, "Duplicate of a referral sent the same day.", "referrer"),
    (CancelReason.OTHER, "Patient moved out of state.", "referrer"),
)
INSURANCE_FAILED_NOTE = "Coverage terminated per the payer portal; patient asked to bring a new card."
PRIOR_AUTH_SPECIALTIES = frozenset(
    {"orthopedics", "gastroenterology", "oncology", "ophthalmology", "urology"}
)
DOCUMENT_TEXT: dict[DocumentKind, str] = {
    DocumentKind.ECG: "12-lead ECG\nSinus rhythm, 78 bpm. PR 168 ms, QRS 92 ms, QTc 431 ms.\n"
    "Occasional premature atrial complexes. No acute ST-T changes.\n",
    DocumentKind.IMAGING: "Imaging report\nFindings as summarized in the referral; no prior comparison.\n"
    "Impression: see the referral reason; correlate clinically.\n",
    DocumentKind.LAB_RESULTS: "Laboratory results\nCreatinine 1.62 mg/dL (eGFR 41)\nPotassium 4.8 mmol/L\n"
    "Urine albumin/creatinine 420 mg/g\nHbA1c 7.9 %\n",
    DocumentKind.REFERRAL_LETTER: "Dear colleague,\nThank you for seeing this patient; the clinical "
    "details are in the referral. Please call with any questions.\n",
    DocumentKind.MEDICATION_LIST: "Medication list\nLisinopril 20 mg daily\nAtorvastatin 40 mg nightly\n"
    "Metformin 1000 mg twice daily\nAspirin 81 mg daily\n",
    DocumentKind.CLINICAL_NOTE: "Clinic note\nHistory and examination as in the referral; vitals stable.\n",
}
DOCUMENT_HEADER = "CareLoop demo document - synthetic data about a fictional patient.\n\n"
OPTIONAL_DOCUMENTS = (DocumentKind.REFERRAL_LETTER, DocumentKind.MEDICATION_LIST, DocumentKind.CLINICAL_NOTE)


# --- what gets generated ---------------------------------------------------------------------

# How many referrals end in each status.
STATUS_PLAN: tuple[tuple[Status, int], ...] = (
    (Status.DRAFT, 14),
    (Status.SENT, 22),
    (Status.IN_REVIEW, 16),
    (Status.NEEDS_INFO, 10),
    (Status.ACCEPTED, 16),
    (Status.DECLINED, 14),
    (Status.SCHEDULED, 22),
    (Status.NO_SHOW, 8),
    (Status.VISIT_COMPLETED, 14),
    (Status.CLOSED, 36),
    (Status.CANCELLED, 18),
    (Status.EXPIRED, 10),
)
# Referrals per receiving specialty (sums to 100, doubled).
SPECIALTY_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("cardiology", 14),
    ("orthopedics", 12),
    ("gastroenterology", 10),
    ("dermatology", 10),
    ("endocrinology", 8),
    ("neurology", 8),
    ("pulmonology", 7),
    ("urology", 6),
    ("ophthalmology", 6),
    ("rheumatology", 5),
    ("oncology", 5),
    ("psychiatry", 5),
    ("nephrology", 4),
)
REFERRER_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("dr.patel@oakstreet.example", 30),
    ("dr.murphy@oakstreet.example", 28),
    ("dr.kim@oakstreet.example", 22),
    ("dr.brooks@riverside.example", 10),
    ("dr.wright@summit.example", 10),
)
PRIORITY_WEIGHTS: tuple[tuple[Priority, int], ...] = (
    (Priority.STAT, 8),
    (Priority.URGENT, 22),
    (Priority.ROUTINE, 70),
)
# Intervals scale with urgency: a STAT referral moves in minutes to hours.
PACE = {Priority.STAT: 0.08, Priority.URGENT: 0.35, Priority.ROUTINE: 1.0}
# Days from booking to the appointment.
APPOINTMENT_LEAD_DAYS = {
    Priority.STAT: (0.5, 2.0),
    Priority.URGENT: (2.0, 7.0),
    Priority.ROUTINE: (5.0, 21.0),
}
# Where a cancelled / expired / declined referral stood when it ended (weights).
CANCELLED_AT = (
    (Status.DRAFT, 3),
    (Status.SENT, 5),
    (Status.IN_REVIEW, 2),
    (Status.NEEDS_INFO, 2),
    (Status.ACCEPTED, 4),
    (Status.SCHEDULED, 3),
    (Status.NO_SHOW, 1),
)
EXPIRED_AT = ((Status.SENT, 6), (Status.IN_REVIEW, 2), (Status.NEEDS_INFO, 1), (Status.ACCEPTED, 2))
DECLINED_AT = ((Status.SENT, 1), (Status.IN_REVIEW, 2))
# Hours since the last step of a referral that is still open (scaled by pace, at least a quarter).
OPEN_RECENCY_HOURS: dict[Status, tuple[float, float]] = {
    Status.DRAFT: (0.5, 240),
    Status.SENT: (0.3, 96),
    Status.IN_REVIEW: (1, 120),
    Status.NEEDS_INFO: (1, 144),
    Status.ACCEPTED: (2, 240),
    Status.SCHEDULED: (2, 240),
    Status.NO_SHOW: (2, 168),
    Status.VISIT_COMPLETED: (2, 400),
}


# --- entry point -----------------------------------------------------------------------------


async def seed_referral_domain(seeded: SeededAccounts) -> None:
    """Seed plans, providers, networks, protocols, patients and referrals (see the module doc)."""
    rng = random.Random(SEED)  # noqa: S311 - deterministic demo data, not a secret
    now = utcnow().replace(microsecond=0)
    plan_ids = await _seed_plans()
    await _seed_extra_providers(seeded)
    await _seed_locations_and_plans(rng, seeded, plan_ids)
    await _seed_network(seeded)
    policies = await _seed_protocols(seeded)
    patient_rows = await _seed_patients(rng, seeded, plan_ids, now.date())
    for plan in _plan_referrals(rng, seeded, patient_rows):
        replay = _replay(rng, seeded, policies, plan, now)
        await _insert(replay)


# --- directory -------------------------------------------------------------------------------


async def _seed_plans() -> dict[str, UUID]:
    await directory.insert_plans([(code, payer, name) for code, payer, name, _ in PLANS])
    return {plan.code: plan.id for plan in await directory.all_plans()}


async def _seed_extra_providers(seeded: SeededAccounts) -> None:
    for index, (domain, slug, name, specialty, accepting) in enumerate(EXTRA_PROVIDERS):
        provider_id = await accounts.insert_provider(
            organization_id=seeded.organization_ids[domain],
            npi=npi_with_check_digit(str(EXTRA_NPI_BASE + 7 * (index + 1))),
            display_name=name,
            user_id=None,
            specialty_ids=[seeded.specialty_ids[specialty]],
            accepting_new_patients=accepting,
        )
        seeded.providers.append(
            SeededProvider(
                key=f"{slug}@{domain}",
                id=provider_id,
                name=name,
                organization=domain,
                specialties=(specialty,),
                user_id=None,
                receives=True,
                accepting=accepting,
            )
        )


def site_of(provider: SeededProvider, index: int) -> tuple[str, str, float, float]:
    sites = SITES[provider.organization]
    return sites[index % len(sites)]


async def _seed_locations_and_plans(
    rng: random.Random, seeded: SeededAccounts, plan_ids: dict[str, UUID]
) -> None:
    codes = [code for code, *_ in PLANS]
    for index, provider in enumerate(seeded.providers):
        name, address, latitude, longitude = site_of(provider, index)
        await directory.insert_location(provider.id, name, address, latitude, longitude)
        accepted = sorted(rng.sample(codes, rng.randint(3, 7)), key=codes.index)
        await directory.link_plans(provider.id, [plan_ids[code] for code in accepted])


async def _seed_network(seeded: SeededAccounts) -> None:
    linked = [
        p.id
        for p in seeded.providers
        if p.organization in RECEIVING_ORGANIZATIONS and p.key not in OUTSIDE_OAK_STREET_NETWORK
    ]
    await directory.link_network(seeded.organization_ids[OAK_STREET], linked)


def in_oak_street_network(provider: SeededProvider) -> bool:
    return provider.organization == OAK_STREET or provider.key not in OUTSIDE_OAK_STREET_NETWORK


# --- protocols -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SeededProtocol:
    version_id: UUID
    policy: Policy


def policy_for(specialty: str) -> Policy:
    fields, attachments = PROTOCOL_RULES[specialty]
    override = SLA_OVERRIDES.get(specialty)
    sla = (
        tuple(zip(Priority, (Deadline(h, d) for h, d in override), strict=True))
        if override
        else tuple(DEFAULT_SLA.items())
    )
    return Policy(
        required_fields=fields, required_attachment_kinds=attachments, sla=sla, valid_days=VALID_DAYS
    )


async def _seed_protocols(seeded: SeededAccounts) -> dict[tuple[str, str], SeededProtocol]:
    seeded_protocols: dict[tuple[str, str], SeededProtocol] = {}
    for domain in RECEIVING_ORGANIZATIONS:
        specialties = sorted(
            {s for p in seeded.providers if p.receives and p.organization == domain for s in p.specialties}
        )
        for code in specialties:
            name = f"{SHORT_NAMES[domain]} {seeded.specialty_names[code]} referral intake"
            protocol_id = await protocols.insert_protocol(
                seeded.organization_ids[domain], seeded.specialty_ids[code], name
            )
            policy = policy_for(code)
            version = await protocols.add_version(
                protocol_id, name=name, definition=policy.to_json(), created_by=None
            )
            seeded_protocols[(domain, code)] = SeededProtocol(version.id, policy)
    return seeded_protocols


# --- patients --------------------------------------------------------------------------------


def _coverage(rng: random.Random, age: int) -> str | None:
    roll = rng.random()
    if roll < 0.05:
        return None  # self-pay
    if age >= 65:
        return rng.choice(MEDICARE_PLANS) if roll < 0.85 else "KAISER-HMO"
    return rng.choice(WORKING_AGE_PLANS) if roll < 0.92 else "KAISER-HMO"


async def _seed_patients(
    rng: random.Random, seeded: SeededAccounts, plan_ids: dict[str, UUID], today: date
) -> list[SeededPatient]:
    prefixes = {code: prefix for code, _, _, prefix in PLANS}
    family_names = iter(rng.sample(FAMILY_NAMES, len(FAMILY_NAMES)))
    seeded_patients: list[SeededPatient] = []
    number = 0
    for domain, mrn_prefix, count in PATIENT_GROUPS:
        for serial in range(count):
            sex = "OTHER" if number == 17 else ("FEMALE" if number % 2 == 0 else "MALE")
            given = rng.choice(FEMALE_NAMES if sex == "FEMALE" else MALE_NAMES)
            age = rng.randint(19, 91)
            plan = _coverage(rng, age)
            patient_id = await patients.insert_patient(
                organization_id=seeded.organization_ids[domain],
                mrn=f"{mrn_prefix}-{100_234 + 1_379 * serial}",
                given_name=given,
                family_name=next(family_names),
                birth_date=today - timedelta(days=age * 365 + rng.randint(0, 364)),
                sex=sex,
                phone=f"+1-503-555-01{number:02d}" if number % 7 else None,
                insurance_plan_id=plan_ids[plan] if plan else None,
                insurance_member_id=f"{prefixes[plan]}{rng.randint(10**8, 10**9 - 1)}" if plan else None,
            )
            seeded_patients.append(SeededPatient(patient_id, domain, sex))
            number += 1
    return seeded_patients


# --- planning the referrals ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReferralPlan:
    """One referral to generate: where it ends, where it stood before that, who and what."""

    target: Status
    stop: Status  # the status it reached before the final decline / cancel / expire (else target)
    priority: Priority
    specialty: str
    scenario: Scenario
    patient: SeededPatient
    referrer: SeededProvider
    receiver: SeededProvider
    queued: bool  # sent to the organization's queue (routed later if the specialist acts)


def _weighted(rng: random.Random, options: Sequence[tuple[Any, int]]) -> Any:
    return rng.choices([value for value, _ in options], weights=[weight for _, weight in options])[0]


def _stop_for(rng: random.Random, target: Status) -> Status:
    if target == Status.CANCELLED:
        return Status(_weighted(rng, CANCELLED_AT))
    if target == Status.EXPIRED:
        return Status(_weighted(rng, EXPIRED_AT))
    if target == Status.DECLINED:
        return Status(_weighted(rng, DECLINED_AT))
    return target


def needs_specialist(target: Status, stop: Status) -> bool:
    """Whether the receiving provider acts on the referral (so needs a user account)."""
    return target == Status.DECLINED or stop not in (Status.DRAFT, Status.SENT)


def _route(
    rng: random.Random, seeded: SeededAccounts, specialty: str, *, specialist: bool, any_provider: bool
) -> tuple[SeededProvider, SeededProvider]:
    by_key = {p.key: p for p in seeded.providers}
    options: list[tuple[tuple[SeededProvider, list[SeededProvider]], int]] = []
    for key, weight in REFERRER_WEIGHTS:
        referrer = by_key[key]
        receivers = [
            p
            for p in seeded.providers
            if p.receives
            and specialty in p.specialties
            and p.organization in REACHABLE[referrer.organization]
            and (p.user_id is not None or not specialist)
            and (p.accepting or any_provider)
        ]
        if receivers:
            options.append(((referrer, receivers), weight))
    referrer, receivers = _weighted(rng, options)
    with_accounts = [p for p in receivers if p.user_id is not None]
    pool = with_accounts if with_accounts and rng.random() < 0.75 else receivers
    return referrer, rng.choice(pool)


def _scenario_and_patient(
    rng: random.Random, specialty: str, organization: str, patient_rows: Sequence[SeededPatient]
) -> tuple[Scenario, SeededPatient]:
    scenario = rng.choice(SCENARIOS[specialty])
    candidates = [p for p in patient_rows if p.organization == organization and scenario.sex in (None, p.sex)]
    return scenario, rng.choice(candidates)


def _plan_referrals(
    rng: random.Random, seeded: SeededAccounts, patient_rows: Sequence[SeededPatient]
) -> list[ReferralPlan]:
    targets = [status for status, count in STATUS_PLAN for _ in range(count)]
    specialties = [code for code, weight in SPECIALTY_WEIGHTS for _ in range(weight * 2)]
    rng.shuffle(targets)
    rng.shuffle(specialties)
    plans = []
    for target, specialty in zip(targets, specialties, strict=False):
        stop = _stop_for(rng, target)
        specialist = needs_specialist(target, stop)
        referrer, receiver = _route(
            rng,
            seeded,
            specialty,
            specialist=specialist,
            any_provider=target in (Status.CANCELLED, Status.EXPIRED),
        )
        scenario, patient = _scenario_and_patient(rng, specialty, referrer.organization, patient_rows)
        routed_later = stop not in (Status.DRAFT, Status.SENT)
        queued = rng.random() < (
            0.12 if routed_later else 0.3 if not specialist and stop == Status.SENT else 0.0
        )
        plans.append(
            ReferralPlan(
                target=target,
                stop=stop,
                priority=Priority(_weighted(rng, PRIORITY_WEIGHTS)),
                specialty=specialty,
                scenario=scenario,
                patient=patient,
                referrer=referrer,
                receiver=receiver,
                queued=queued,
            )
        )
    return plans


# --- the steps of one referral ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    action: str
    gap: timedelta  # after the previous step (EXPIRE: computed from expires_at when replayed)
    actor: UUID | None
    note: str = ""
    reason_code: str | None = None
    lead: timedelta | None = None  # SCHEDULE / RESCHEDULE: from booking to the appointment
    document: DocumentKind | None = None
    insurance: InsuranceStatus | None = None
    prior_auth: PriorAuthStatus | None = None
    provider_id: UUID | None = None  # ROUTE: to whom; DECLINE: suggested provider
    reference: str | None = None  # UPDATE_PRIOR_AUTH: the payer's reference


@dataclass(slots=True)
class Story:
    """Builds the steps of one referral with the right actor for each and a plausible pace."""

    rng: random.Random
    seeded: SeededAccounts
    plan: ReferralPlan
    steps: list[Step] = field(default_factory=list)
    lead: timedelta = timedelta(0)  # time from the last booking to its appointment

    @property
    def pace(self) -> float:
        return PACE[self.plan.priority]

    def hours(self, low: float, high: float, *, paced: bool = True) -> timedelta:
        scale = self.pace if paced else 1.0
        return timedelta(seconds=max(300, int(self.rng.uniform(low, high) * 3600 * scale)))

    def add(self, action: str | Action, gap: timedelta, actor: UUID | None, **details: Any) -> None:
        self.steps.append(Step(str(action), gap, actor, **details))

    def user(self, email: str) -> UUID:
        return self.seeded.user_ids[email]

    @property
    def referrer(self) -> UUID:
        assert self.plan.referrer.user_id is not None
        return self.plan.referrer.user_id

    @property
    def specialist(self) -> UUID:
        assert self.plan.receiver.user_id is not None
        return self.plan.receiver.user_id

    @property
    def referring_staff(self) -> UUID:
        return self.user(f"coordinator@{self.plan.referrer.organization}")

    @property
    def receiving_staff(self) -> UUID:
        domain = self.plan.receiver.organization
        staff = [f"coordinator@{domain}", f"manager@{domain}"]
        if domain == RIVERSIDE:
            staff.append("coordinator2@riverside.example")
        return self.user(self.rng.choice(staff))

    def referring_side(self) -> UUID:
        return self.referrer if self.rng.random() < 0.75 else self.referring_staff

    def scheduler(self) -> UUID:
        return self.receiving_staff if self.rng.random() < 0.8 else self.referring_staff


def _drafting(story: Story, *, final: bool) -> None:
    creator = story.referring_side()
    story.add(CREATE, timedelta(0), creator)
    if story.rng.random() < 0.3:
        story.add(Action.EDIT, story.hours(0.1, 6), creator)
    required = PROTOCOL_RULES[story.plan.specialty][1]
    kinds = list(required) if not final or story.rng.random() < 0.5 else []
    if story.rng.random() < 0.15:
        kinds.append(story.rng.choice(OPTIONAL_DOCUMENTS))
    for kind in kinds:
        story.add(Action.ADD_DOCUMENT, story.hours(0.1, 4), creator, note=kind.value, document=kind)


def _sending(story: Story) -> None:
    story.add(Action.SEND, story.hours(0.2, 24), story.referring_side())
    roll = story.rng.random()
    if roll < 0.65:
        verified = roll < 0.55
        story.add(
            Action.UPDATE_INSURANCE,
            story.hours(1, 24),
            story.referring_staff if story.rng.random() < 0.6 else story.receiving_staff,
            insurance=InsuranceStatus.VERIFIED if verified else InsuranceStatus.FAILED,
            reason_code=(InsuranceStatus.VERIFIED if verified else InsuranceStatus.FAILED).value,
            note="" if verified else INSURANCE_FAILED_NOTE,
        )
    if story.plan.specialty in PRIOR_AUTH_SPECIALTIES and story.rng.random() < 0.5:
        _prior_authorization(story)


def _prior_authorization(story: Story) -> None:
    staff = story.referring_staff
    reference = f"PA-{story.rng.randint(100_000, 999_999)}"
    pending = PriorAuthStatus.PENDING
    story.add(
        Action.UPDATE_PRIOR_AUTH,
        story.hours(2, 24),
        staff,
        prior_auth=pending,
        reason_code=pending.value,
        reference=reference,
    )
    roll = story.rng.random()
    if roll < 0.4:
        return
    decided = PriorAuthStatus.APPROVED if roll < 0.85 else PriorAuthStatus.DENIED
    story.add(
        Action.UPDATE_PRIOR_AUTH, story.hours(12, 96), staff, prior_auth=decided, reason_code=decided.value
    )


def _reviewing(story: Story, stop: Status) -> None:
    """SENT onwards up to ``stop`` (IN_REVIEW, NEEDS_INFO or ACCEPTED and later)."""
    if story.plan.queued:
        story.add(Action.ROUTE, story.hours(1, 24), story.receiving_staff, provider_id=story.plan.receiver.id)
    if stop == Status.NEEDS_INFO:
        if story.rng.random() < 0.7:
            story.add(Action.CLAIM, story.hours(1, 36), story.specialist)
        _request_info(story)
        return
    if stop == Status.IN_REVIEW or story.rng.random() < 0.8:
        story.add(Action.CLAIM, story.hours(1, 36), story.specialist)
    if story.rng.random() < 0.2:
        _request_info(story)
        answer = INFO_EXCHANGES[story.plan.specialty][1]
        story.add(Action.PROVIDE_INFO, story.hours(2, 72), story.referring_side(), note=answer)


def _request_info(story: Story) -> None:
    question = INFO_EXCHANGES[story.plan.specialty][0]
    story.add(Action.REQUEST_INFO, story.hours(0.5, 24), story.specialist, note=question)


def _book(story: Story, action: Action, gap: timedelta, *, shorter: bool = False) -> None:
    low, high = APPOINTMENT_LEAD_DAYS[story.plan.priority]
    story.lead = story.hours(low * 24, high * (12 if shorter else 24), paced=False)
    story.add(
        action,
        gap,
        story.scheduler() if action == Action.SCHEDULE else story.receiving_staff,
        lead=story.lead,
    )


def _before_appointment(story: Story) -> timedelta:
    """A moment between the last booking and its appointment."""
    return timedelta(seconds=int(story.lead.total_seconds() * story.rng.uniform(0.1, 0.7)))


def _after_appointment(story: Story, low: float, high: float) -> timedelta:
    return story.lead + story.hours(low, high, paced=False)


def _visiting(story: Story, stop: Status) -> None:
    """ACCEPTED onwards up to ``stop`` (ACCEPTED, SCHEDULED, NO_SHOW or VISIT_COMPLETED)."""
    story.add(Action.ACCEPT, story.hours(0.5, 48), story.specialist)
    if stop == Status.ACCEPTED:
        return
    _book(story, Action.SCHEDULE, story.hours(2, 72))
    if stop == Status.SCHEDULED:
        return
    if stop == Status.NO_SHOW or story.rng.random() < 0.12:
        story.add(Action.MARK_NO_SHOW, _after_appointment(story, 1, 6), story.receiving_staff)
        if stop == Status.NO_SHOW:
            return
        _book(story, Action.SCHEDULE, story.hours(4, 72), shorter=True)
    completer = story.specialist if story.rng.random() < 0.7 else story.receiving_staff
    story.add(Action.COMPLETE_VISIT, _after_appointment(story, 1, 8), completer)


def _path_to(story: Story, stop: Status) -> None:
    _drafting(story, final=stop == Status.DRAFT)
    if stop == Status.DRAFT:
        return
    _sending(story)
    if stop == Status.SENT:
        return
    _reviewing(story, stop)
    if stop in (Status.IN_REVIEW, Status.NEEDS_INFO):
        return
    _visiting(story, stop)


def _finish(story: Story) -> None:
    """The last step for referrals that end in a decision, a cancellation, expiry or closure."""
    plan = story.plan
    if plan.target == Status.ACCEPTED and story.rng.random() < 0.15:
        _book(story, Action.SCHEDULE, story.hours(2, 72))
        story.add(Action.CANCEL_APPOINTMENT, _before_appointment(story), story.receiving_staff)
    elif plan.target == Status.SCHEDULED and story.rng.random() < 0.2:
        _book(story, Action.RESCHEDULE, _before_appointment(story))
    elif plan.target == Status.CLOSED:
        story.add(Action.CLOSE, story.hours(2, 240), story.specialist)
    elif plan.target == Status.DECLINED:
        _decline(story)
    elif plan.target == Status.CANCELLED:
        _cancel(story)
    elif plan.target == Status.EXPIRED:
        story.add(Action.EXPIRE, timedelta(0), None, reason_code="VALIDITY_WINDOW_PASSED")


def _decline(story: Story) -> None:
    reason, note = story.rng.choice(DECLINES)
    suggested = None
    if reason == DeclineReason.BETTER_SERVED_ELSEWHERE:
        others = [
            p
            for p in story.seeded.providers
            if story.plan.specialty in p.specialties and p.id != story.plan.receiver.id and p.accepting
        ]
        suggested = story.rng.choice(others).id if others else None
    story.add(
        Action.DECLINE,
        story.hours(0.5, 48),
        story.specialist,
        reason_code=reason.value,
        note=note,
        provider_id=suggested,
    )


def _cancel(story: Story) -> None:
    reason, note, side = story.rng.choice(CANCELS)
    if story.plan.stop == Status.DRAFT:
        actor = story.referrer
    elif side == "receiver":
        actor = story.receiving_staff
    else:
        actor = story.referring_side()
    last = story.steps[-1].action
    gap = _before_appointment(story) if last in (Action.SCHEDULE, Action.RESCHEDULE) else story.hours(2, 120)
    story.add(Action.CANCEL, gap, actor, reason_code=reason.value, note=note)


def build_steps(rng: random.Random, seeded: SeededAccounts, plan: ReferralPlan) -> list[Step]:
    story = Story(rng, seeded, plan)
    _path_to(story, Status.VISIT_COMPLETED if plan.target == Status.CLOSED else plan.stop)
    _finish(story)
    return story.steps


# --- placing a timeline in the last 90 days --------------------------------------------------


def _created_at(rng: random.Random, plan: ReferralPlan, steps: Sequence[Step], now: datetime) -> datetime:
    """When the referral was created so that it ends where its status says it should."""
    earliest = now - timedelta(days=HISTORY_DAYS)
    if plan.target == Status.EXPIRED:
        before_send = sum((s.gap for s in steps[: _index_of(steps, Action.SEND) + 1]), timedelta(0))
        sent_at = now - timedelta(days=rng.uniform(VALID_DAYS + 1, HISTORY_DAYS - 3))
        return _whole(max(sent_at - before_send, earliest))
    duration = sum((s.gap for s in steps), timedelta(0))
    if plan.target in lifecycle.TERMINAL:
        latest = now - duration - timedelta(minutes=30)
        return _whole(earliest + (latest - earliest) * rng.random())
    low, high = OPEN_RECENCY_HOURS[plan.target]
    scale = max(PACE[plan.priority], 0.25)
    ended = now - timedelta(hours=rng.uniform(low, high) * scale)
    return _whole(max(ended - duration, earliest))


def _index_of(steps: Sequence[Step], action: Action) -> int:
    return next(i for i, step in enumerate(steps) if step.action == action)


def _whole(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


# --- replaying the steps with the service's rules --------------------------------------------


class SeedTimelineError(RuntimeError):
    """A generated timeline broke a rule of the lifecycle (a bug in this module)."""


@dataclass(slots=True)
class Replay:
    """One referral's row, events, appointments and documents, built step by step."""

    values: Row
    policy: Policy
    protocol_version_id: UUID
    network: NetworkStatus
    location: str
    outcome: str
    now: datetime
    events: list[Row] = field(default_factory=list)
    appointments: list[Row] = field(default_factory=list)
    documents: list[Row] = field(default_factory=list)
    messages: list[tuple[UUID, str, datetime]] = field(default_factory=list)

    @property
    def priority(self) -> Priority:
        return Priority(self.values["priority"])

    def booked(self) -> Row | None:
        return next((a for a in reversed(self.appointments) if a["status"] == AppointmentStatus.BOOKED), None)

    def settle(self, status: AppointmentStatus) -> None:
        booked = self.booked()
        if booked is not None:
            booked["status"] = status

    def apply(self, step: Step, at: datetime) -> None:
        status = Status(self.values["status"])
        action = Action(step.action)
        if not lifecycle.is_legal(action, status):
            raise SeedTimelineError(f"{action} is not legal in {status}")
        expires_at = self.values["expires_at"]
        if action != Action.EXPIRE and status in lifecycle.BEFORE_VISIT and expires_at and at >= expires_at:
            raise SeedTimelineError(f"{action} at {at} after the referral expired at {expires_at}")
        changes = HANDLERS.get(action, _no_changes)(self, step, at)
        to_status = lifecycle.next_status(action, status)
        self.values.update(changes)
        self.values["version"] += 1
        self.values["updated_at"] = at
        if to_status != status:
            self.values["status"] = to_status.value
            self.values["status_changed_at"] = at
        self.events.append(_event(step, status.value, to_status.value, at))


def _event(step: Step, from_status: str | None, to_status: str, at: datetime) -> Row:
    return {
        "actor_id": step.actor,
        "action": step.action,
        "from_status": from_status,
        "to_status": to_status,
        "reason_code": step.reason_code,
        "note": step.note,
        "occurred_at": at,
    }


def _no_changes(replay: Replay, step: Step, at: datetime) -> Row:
    return {}


def _send(replay: Replay, step: Step, at: datetime) -> Row:
    respond_by = replay.policy.respond_by(replay.priority, at)
    return {
        "protocol_version": replay.protocol_version_id,
        "network_status": replay.network.value,
        "sent_at": at,
        "respond_by": respond_by,
        "expires_at": replay.policy.expires_at(at),
        "due_at": respond_by,
    }


def _route_to(replay: Replay, step: Step, at: datetime) -> Row:
    return {"receiving_provider": step.provider_id}


def _request_information(replay: Replay, step: Step, at: datetime) -> Row:
    return {"due_at": NO_DEADLINE}


def _provide_information(replay: Replay, step: Step, at: datetime) -> Row:
    paused = at - replay.values["status_changed_at"]
    respond_by = _whole((replay.values["respond_by"] or at) + paused)
    return {"respond_by": respond_by, "due_at": respond_by}


def _accept(replay: Replay, step: Step, at: datetime) -> Row:
    schedule_by = replay.policy.schedule_by(replay.priority, at)
    return {"schedule_by": schedule_by, "due_at": schedule_by}


def _decline_referral(replay: Replay, step: Step, at: datetime) -> Row:
    return {"status_reason": step.reason_code, "suggested_provider": step.provider_id, "due_at": NO_DEADLINE}


def _book_appointment(replay: Replay, step: Step, at: datetime) -> Row:
    assert step.lead is not None
    starts_at = at + step.lead
    replay.settle(AppointmentStatus.CANCELLED)
    replay.appointments.append(
        {
            "starts_at": starts_at,
            "location": replay.location,
            "provider": replay.values["receiving_provider"],
            "status": AppointmentStatus.BOOKED,
            "created_at": at,
        }
    )
    return {"due_at": _whole(starts_at)}


def _settler(status: AppointmentStatus) -> Callable[[Replay, Step, datetime], Row]:
    def settle(replay: Replay, step: Step, at: datetime) -> Row:
        replay.settle(status)
        if status == AppointmentStatus.COMPLETED:
            return {"due_at": at + timedelta(days=REPORT_DUE_DAYS)}
        schedule_by = replay.policy.schedule_by(replay.priority, at)
        return {"schedule_by": schedule_by, "due_at": schedule_by}

    return settle


def _close(replay: Replay, step: Step, at: datetime) -> Row:
    return {"outcome_report": replay.outcome, "closed_at": at, "due_at": NO_DEADLINE}


def _cancel_referral(replay: Replay, step: Step, at: datetime) -> Row:
    replay.settle(AppointmentStatus.CANCELLED)
    return {"status_reason": step.reason_code, "due_at": NO_DEADLINE}


def _expire(replay: Replay, step: Step, at: datetime) -> Row:
    return {"due_at": NO_DEADLINE}


def _add_document(replay: Replay, step: Step, at: datetime) -> Row:
    assert step.document is not None
    assert step.actor is not None
    replay.documents.append(
        _document(step.document, DOCUMENT_TEXT[step.document], step.actor, at, outcome=False)
    )
    return {}


def _update_insurance(replay: Replay, step: Step, at: datetime) -> Row:
    assert step.insurance is not None
    return {"insurance_status": step.insurance.value}


def _update_prior_auth(replay: Replay, step: Step, at: datetime) -> Row:
    assert step.prior_auth is not None
    pending = step.prior_auth == PriorAuthStatus.PENDING
    return {
        "prior_auth_status": step.prior_auth.value,
        "prior_auth_reference": step.reference or replay.values["prior_auth_reference"],
        "prior_auth_decision_due": at + timedelta(days=5) if pending else None,
    }


HANDLERS: dict[Action, Callable[[Replay, Step, datetime], Row]] = {
    Action.SEND: _send,
    Action.ROUTE: _route_to,
    Action.REQUEST_INFO: _request_information,
    Action.PROVIDE_INFO: _provide_information,
    Action.ACCEPT: _accept,
    Action.DECLINE: _decline_referral,
    Action.SCHEDULE: _book_appointment,
    Action.RESCHEDULE: _book_appointment,
    Action.CANCEL_APPOINTMENT: _settler(AppointmentStatus.CANCELLED),
    Action.MARK_NO_SHOW: _settler(AppointmentStatus.NO_SHOW),
    Action.COMPLETE_VISIT: _settler(AppointmentStatus.COMPLETED),
    Action.CLOSE: _close,
    Action.CANCEL: _cancel_referral,
    Action.EXPIRE: _expire,
    Action.ADD_DOCUMENT: _add_document,
    Action.UPDATE_INSURANCE: _update_insurance,
    Action.UPDATE_PRIOR_AUTH: _update_prior_auth,
}


def _document(kind: DocumentKind, text: str, added_by: UUID, at: datetime, *, outcome: bool) -> Row:
    content = (DOCUMENT_HEADER + text).encode()
    return {
        "kind": kind.value,
        "media_type": "text/plain",
        "filename": f"{kind.value.lower().replace('_', '-')}-{at:%Y%m%d}.txt",
        "size_bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "content": content,
        "is_outcome": outcome,
        "added_by": added_by,
        "created_at": at,
    }


def _network(plan: ReferralPlan) -> NetworkStatus:
    """As ``send`` computes it: a queue referral to another organization is of unknown network."""
    if plan.queued:
        return NetworkStatus.UNKNOWN
    if plan.referrer.organization == OAK_STREET and in_oak_street_network(plan.receiver):
        return NetworkStatus.IN_NETWORK
    if plan.receiver.organization == plan.referrer.organization:
        return NetworkStatus.IN_NETWORK
    return NetworkStatus.OUT_OF_NETWORK


def _initial_values(
    rng: random.Random, seeded: SeededAccounts, plan: ReferralPlan, creator: UUID, created_at: datetime
) -> Row:
    scenario = plan.scenario
    complete = plan.target != Status.DRAFT or rng.random() < 0.6
    out_of_network = not plan.queued and _network(plan) == NetworkStatus.OUT_OF_NETWORK
    return {
        "version": 1,
        "status": Status.DRAFT.value,
        "priority": plan.priority.value,
        "priority_rank": lifecycle.PRIORITY_RANK[plan.priority],
        "due_at": NO_DEADLINE,
        "patient": plan.patient.id,
        "referring_provider": plan.referrer.id,
        "referring_organization": seeded.organization_ids[plan.referrer.organization],
        "receiving_provider": None if plan.queued else plan.receiver.id,
        "receiving_organization": seeded.organization_ids[plan.receiver.organization],
        "specialty": seeded.specialty_ids[plan.specialty],
        "reason": scenario.reason,
        "clinical_question": scenario.question if complete else "",
        "relevant_history": scenario.history,
        "diagnoses": list(scenario.diagnoses) if complete else [],
        "network_status": NetworkStatus.UNKNOWN.value,
        "out_of_network_reason": rng.choice(OUT_OF_NETWORK_REASONS) if out_of_network else "",
        "insurance_status": InsuranceStatus.UNVERIFIED.value,
        "prior_auth_status": PriorAuthStatus.NOT_REQUIRED.value,
        "prior_auth_reference": None,
        "prior_auth_decision_due": None,
        "status_changed_at": created_at,
        "sent_at": None,
        "respond_by": None,
        "schedule_by": None,
        "expires_at": None,
        "status_reason": None,
        "suggested_provider": None,
        "outcome_report": "",
        "closed_at": None,
        "created_by": creator,
        "created_at": created_at,
        "updated_at": created_at,
    }


def _replay(
    rng: random.Random,
    seeded: SeededAccounts,
    policies: dict[tuple[str, str], SeededProtocol],
    plan: ReferralPlan,
    now: datetime,
) -> Replay:
    steps = build_steps(rng, seeded, plan)
    created_at = _created_at(rng, plan, steps, now)
    creator = steps[0].actor
    assert creator is not None
    protocol = policies[(plan.receiver.organization, plan.specialty)]
    name, address, _, _ = site_of(plan.receiver, [p.id for p in seeded.providers].index(plan.receiver.id))
    replay = Replay(
        values=_initial_values(rng, seeded, plan, creator, created_at),
        policy=protocol.policy,
        protocol_version_id=protocol.version_id,
        network=_network(plan),
        location=f"{name}, {address}"[:200],
        outcome=plan.scenario.outcome,
        now=now,
    )
    replay.events.append(_event(steps[0], None, Status.DRAFT.value, created_at))
    at = created_at
    for step in steps[1:]:
        at = _next_time(replay, step, at)
        replay.apply(step, at)
    _attach_outcome(rng, replay, plan, at)
    _chat(rng, replay, plan, creator)
    _check_ends_before_now(replay, at)
    return replay


def _next_time(replay: Replay, step: Step, previous: datetime) -> datetime:
    if step.action == Action.EXPIRE:
        expires_at: datetime = replay.values["expires_at"]
        return max(expires_at + timedelta(minutes=7), previous + timedelta(minutes=1))
    return previous + max(step.gap, timedelta(minutes=1))


def _attach_outcome(rng: random.Random, replay: Replay, plan: ReferralPlan, closed_at: datetime) -> None:
    """Half the closed referrals came back with the consult report attached."""
    if plan.target == Status.CLOSED and rng.random() < 0.5:
        assert plan.receiver.user_id is not None
        text = f"Consult report\n\n{plan.scenario.outcome}\n"
        replay.documents.append(
            _document(DocumentKind.CONSULT_REPORT, text, plan.receiver.user_id, closed_at, outcome=True)
        )


CHAT_OPENERS = (
    "Hi, thanks for taking this one. Anything you need from us before the visit?",
    "Sent over the latest labs this morning; let me know if they don't come through.",
    "Quick question on this referral when you have a minute.",
)
CHAT_REPLIES = (
    "Got it, thanks. The recent imaging would help if you have it.",
    "Received. We'll call the patient to book this week.",
    "Sure, what do you need?",
)


def _chat(rng: random.Random, replay: Replay, plan: ReferralPlan, referrer: UUID) -> None:
    """A short secure-message exchange on some referrals that reached the receiving side."""
    sent_at = replay.values.get("sent_at")
    receiver = plan.receiver.user_id
    if sent_at is None or receiver is None or rng.random() >= 0.35:
        return
    at = sent_at + timedelta(minutes=rng.randint(20, 240))
    pick = rng.randrange(len(CHAT_OPENERS))
    for sender, text in ((referrer, CHAT_OPENERS[pick]), (receiver, CHAT_REPLIES[pick])):
        if at >= replay.now:
            return
        replay.messages.append((sender, text, at))
        at += timedelta(minutes=rng.randint(5, 90))


def _check_ends_before_now(replay: Replay, last: datetime) -> None:
    values = replay.values
    if last >= replay.now:
        raise SeedTimelineError(f"the timeline ends in the future ({last})")
    still_expirable = Status(values["status"]) in lifecycle.BEFORE_VISIT
    if still_expirable and values["expires_at"] is not None and values["expires_at"] <= replay.now:
        raise SeedTimelineError(f"an open referral is past its expiry ({values['expires_at']})")


async def _insert(replay: Replay) -> None:
    referral_id = (await referrals.insert_referral(replay.values)).id
    conversation = await conversations.ensure_referral_conversation(
        referral_id, None, replay.values["created_at"]
    )
    for event in replay.events:
        await referrals.insert_event(referral_id=referral_id, **event)
    for appointment in replay.appointments:
        await referrals.insert_appointment(
            {**appointment, "referral": referral_id, "status": str(appointment["status"])}
        )
    for document in replay.documents:
        await referrals.insert_document({**document, "referral": referral_id})
    if replay.messages:
        await _insert_messages(conversation, replay.messages)


async def _insert_messages(conversation: Conversation, messages: list[tuple[UUID, str, datetime]]) -> None:
    keys = conversations.KeyRing()
    keys.remember(conversation)
    for sender, body, at in messages:
        sequence = await conversations.next_sequence(conversation.id, at)
        await conversations.insert_message(
            keys,
            conversations.OutgoingMessage(
                conversation_id=conversation.id,
                sender_id=sender,
                client_message_id=f"seed-{conversation.id}-{sequence}",
                body=body,
                is_priority=False,
                reply_to=None,
                sent_at=at,
                expires_at=None,
            ),
            sequence,
        )
        await conversations.advance_read_state(
            conversation.id, sender, delivered_up_to=sequence, read_up_to=sequence, now=at
        )
