"""Word lists for the demo clinic: plausible, varied Australian names and places."""

from __future__ import annotations

FIRST_NAMES = (
    "Olivia Charlotte Amelia Isla Mia Ava Grace Chloe Sophie Ruby Zoe Emily Harper Ella Matilda "
    "Lily Evie Sienna Willow Ivy Jack Oliver Noah William Henry Leo Thomas James Lucas Charlie "
    "Hudson Max Oscar Archie Ethan Liam Mason Harrison Samuel Levi Michael David Peter Susan "
    "Margaret Patricia Barbara Helen Karen Sandra Jennifer Linda Robert John Anthony Mark Paul "
    "Andrew Stephen Christopher Daniel Matthew Joshua Ryan Nathan Benjamin Jessica Sarah Rebecca "
    "Emma Hannah Laura Rachel Megan Kate Lauren Kylie Tanya Bronwyn Shane Craig Darren Brett "
    "Aaliyah Fatima Mohammed Omar Yusuf Layla Zainab Ali Hassan Mariam Wei Jing Xin Hao Mei Li "
    "Minh Thanh Linh Huong Anh Tuan Duc Priya Arjun Ananya Rohan Aditi Sanjay Deepa Raj Giorgos "
    "Eleni Dimitri Sofia Marco Giulia Luca Francesca Aroha Tane Mere Nikau Siosaia Mele Aisha "
    "Chiara Björn Zoë José Renée Chloé Noël Siobhán Seán Niamh Aoife Ngaire Jarrah Kirra Tjarra"
).split()

LAST_NAMES = (
    "Smith Jones Williams Brown Wilson Taylor Johnson White Martin Anderson Thompson Nguyen "
    "Thomas Walker Harris Lee Ryan Robinson Kelly King Davis Wright Evans Roberts Green Hall Wood "
    "Jackson Clarke Patel Khan Lewis James Phillips Mitchell Campbell Murphy Cooper Chen Wang Li "
    "Zhang Liu Tran Le Pham Huynh Hoang Phan Vu Dang Bui Do Ngo Duong Singh Kaur Sharma Gupta "
    "Kumar Papadopoulos Nikolaidis Georgiou Rossi Russo Ferrari Esposito Bianchi Romano Kowalski "
    "Nowak Novak Schmidt Müller Fischer Ahmed Hussain Ali Hassan Ibrahim Abdullah Haddad Khoury "
    "O'Brien O'Connor O'Neill O'Sullivan D'Souza McDonald MacDonald McKenzie MacKenzie McLeod "
    "Macintosh McGrath Fitzgerald Gallagher Kennedy Sullivan Lloyd Hughes Edwards Morgan "
    "Smith-Jones Taylor-Brown Ó Súilleabháin Nakamura Tanaka Suzuki Kim Park Choi Lim Tan Wong "
    "Ngata Te Rangi Tuilagi Fonoti Waititi Brennan Dawson Stewart Graham Reid Ross Fraser"
).split()

STREETS = (
    "George Street|Pitt Street|King Street|Victoria Road|Pacific Highway|Church Street|"
    "High Street|Station Street|Railway Parade|Queen Street|Elizabeth Street|Bay Road|"
    "Parramatta Road|Military Road|Oxford Street|Beach Road|Hill Street|Park Avenue|"
    "Wattle Grove|Banksia Crescent|Grevillea Close|Bottlebrush Drive|Ironbark Way|Jacaranda Lane"
).split("|")

SUBURBS = (
    ("Newtown", "NSW", "2042"), ("Marrickville", "NSW", "2204"), ("Parramatta", "NSW", "2150"),
    ("Chatswood", "NSW", "2067"), ("Bondi", "NSW", "2026"), ("Manly", "NSW", "2095"),
    ("Cabramatta", "NSW", "2166"), ("Hurstville", "NSW", "2220"), ("Penrith", "NSW", "2750"),
    ("Liverpool", "NSW", "2170"), ("Randwick", "NSW", "2031"), ("Epping", "NSW", "2121"),
    ("Ryde", "NSW", "2112"), ("Strathfield", "NSW", "2135"), ("Auburn", "NSW", "2144"),
    ("Dee Why", "NSW", "2099"), ("Cronulla", "NSW", "2230"), ("Blacktown", "NSW", "2148"),
)  # fmt: skip

PROFESSIONS = (
    ("Physiotherapist", "#3b82f6"),
    ("Podiatrist", "#10b981"),
    ("Chiropractor", "#f59e0b"),
    ("Psychologist", "#8b5cf6"),
    ("Exercise Physiologist", "#ef4444"),
    ("Dietitian", "#14b8a6"),
    ("Occupational Therapist", "#ec4899"),
    ("Speech Pathologist", "#6366f1"),
)

# (code, name, price in cents, taxable, duration, profession or "" for products)
CATALOGUE = (
    ("PHY-INI", "Physiotherapy initial consultation", 11500, False, 45, "Physiotherapist"),
    ("PHY-STD", "Physiotherapy standard consultation", 9500, False, 30, "Physiotherapist"),
    ("POD-INI", "Podiatry initial consultation", 10500, False, 45, "Podiatrist"),
    ("POD-STD", "Podiatry standard consultation", 8500, False, 30, "Podiatrist"),
    ("CHI-INI", "Chiropractic initial consultation", 9900, False, 45, "Chiropractor"),
    ("CHI-STD", "Chiropractic adjustment", 7000, False, 20, "Chiropractor"),
    ("PSY-STD", "Psychology consultation (50 min)", 22000, False, 50, "Psychologist"),
    ("EP-STD", "Exercise physiology session", 9000, False, 45, "Exercise Physiologist"),
    ("DIE-STD", "Dietetic consultation", 12000, False, 45, "Dietitian"),
    ("OT-STD", "Occupational therapy session", 19300, False, 60, "Occupational Therapist"),
    ("SP-STD", "Speech pathology session", 19300, False, 45, "Speech Pathologist"),
    ("GRP-PIL", "Clinical pilates class", 3500, False, 60, ""),
    ("PRD-KNEE", "Knee brace", 6500, True, None, ""),
    ("PRD-BAND", "Resistance band", 1500, True, None, ""),
    ("PRD-ORTH", "Custom orthotics", 45000, True, None, ""),
)

HEALTH_FUNDS = (
    "Bupa", "Medibank", "HCF", "nib", "HBF", "Australian Unity", "Teachers Health", "CBHS",
    "GMHBA", "Defence Health",
)  # fmt: skip
OTHER_FUNDERS = (
    ("medicare", "Medicare"),
    ("dva", "Department of Veterans' Affairs"),
    ("ndis_plan_manager", "Plan Partners"),
    ("ndis_plan_manager", "My Plan Manager"),
    ("workers_comp", "icare NSW"),
    ("insurer", "Allianz Australia"),
)
