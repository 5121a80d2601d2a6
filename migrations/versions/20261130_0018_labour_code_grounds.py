"""Dismissal reasons split in two (issue 20.6): the Labour Code ground and the analytic category

Revision ID: 0018
Revises: 0013
Create Date: 2026-11-30

* labour_code_ground: a reference list (code, kk/ru/en names, article of the Labour Code of the Republic
  of Kazakhstan of 23.11.2015 No. 414-V), seeded with the grounds below.
* employment.end_ground_id, employment.end_category: the two fields of an episode's ending; the category
  is one of in_sector, transfer, leaves_sector, abroad, retirement, death.
* employment_end_reason.ground_code, .category: the mapping of each reason used before onto the two
  fields. The eight seeded reasons map as ``MAPPING`` says; a reason the ministry added itself keeps no
  ground and takes its category from its flags (death, retirement, abroad, leaves the sector, transfer,
  else stays in the sector).
* Every ended episode with a reason gets the ground and the category of its reason. ``end_reason_id``
  itself is kept: the value entered then stays readable (episode page, "as entered before the split").
Downgrade drops the new columns and the table; ``end_reason_id`` was never touched, so nothing is lost.
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

CATEGORIES = ("in_sector", "transfer", "leaves_sector", "abroad", "retirement", "death")

GROUNDS = [  # code, kk, ru, en, article (profreg/reference/seeds/labour_code_grounds.csv)
    ("AGREEMENT", "Тараптардың келісімі", "Соглашение сторон", "Agreement of the parties", "50"),
    ("TERM_EXPIRY", "Еңбек шартының мерзімінің өтуі", "Истечение срока трудового договора",
     "Expiry of the employment contract's term", "51"),
    ("EMPLOYER_INITIATIVE", "Жұмыс берушінің бастамасы бойынша еңбек шартын бұзу",
     "Расторжение трудового договора по инициативе работодателя", "Termination at the employer's initiative", "52"),
    ("RETIREMENT_AGE", "Жұмыскердің зейнеткерлік жасқа толуы", "Достижение работником пенсионного возраста",
     "The employee reached the pension age", "52.1.24"),
    ("EMPLOYEE_INITIATIVE", "Жұмыскердің бастамасы бойынша еңбек шартын бұзу",
     "Расторжение трудового договора по инициативе работника", "Termination at the employee's initiative", "56"),
    ("BEYOND_CONTROL", "Тараптардың еркіне байланысты емес мән-жайлар бойынша тоқтату",
     "Прекращение по обстоятельствам, не зависящим от воли сторон", "Circumstances beyond the parties' control",
     "57"),
    ("DEATH", "Жұмыскердің қайтыс болуы, хабар-ошарсыз кеткен немесе қайтыс болды деп жариялануы",
     "Смерть работника, признание его безвестно отсутствующим или объявление умершим",
     "Death of the employee, or declared missing or dead", "57"),
    ("REFUSAL_TO_CONTINUE", "Жұмыскердің еңбек қатынастарын жалғастырудан бас тартуы",
     "Отказ работника от продолжения трудовых отношений", "The employee's refusal to continue the employment",
     "58"),
    ("TRANSFER", "Жұмыскердің басқа жұмыс берушіге ауысуы немесе сайланбалы жұмысқа көшуі",
     "Перевод работника к другому работодателю или переход на выборную работу",
     "Transfer to another employer or to an elected post", "49"),
]

#: old reason code -> (ground code, category)
MAPPING = {
    "TRANSFER": ("TRANSFER", "transfer"),
    "OWN_WISH": ("EMPLOYEE_INITIATIVE", "in_sector"),
    "LEAVE_SECTOR": ("EMPLOYEE_INITIATIVE", "leaves_sector"),
    "EMIGRATION": ("EMPLOYEE_INITIATIVE", "abroad"),
    "RETIREMENT": ("RETIREMENT_AGE", "retirement"),
    "DEATH": ("DEATH", "death"),
    "DISMISSAL": ("EMPLOYER_INITIATIVE", "in_sector"),
    "CONTRACT_END": ("TERM_EXPIRY", "in_sector"),
}

FLAG_CATEGORY = """CASE WHEN death THEN 'death' WHEN retirement THEN 'retirement' WHEN abroad THEN 'abroad'
    WHEN leaves_sector THEN 'leaves_sector' WHEN transfer THEN 'transfer' ELSE 'in_sector' END"""


def upgrade():
    ground = op.create_table(
        "labour_code_ground",
        sa.Column("article", sa.String(length=32), server_default="", nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_kk", sa.String(length=255), nullable=False),
        sa.Column("name_ru", sa.String(length=255), nullable=False),
        sa.Column("name_en", sa.String(length=255), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labour_code_ground")),
        sa.UniqueConstraint("code", name=op.f("uq_labour_code_ground_code")),
    )
    op.bulk_insert(ground, [{"code": c, "name_kk": kk, "name_ru": ru, "name_en": en, "article": art,
                             "is_active": True} for c, kk, ru, en, art in GROUNDS])
    with op.batch_alter_table("employment_end_reason", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ground_code", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("category", sa.String(length=16), nullable=True))
    with op.batch_alter_table("employment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("end_ground_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("end_category", sa.String(length=16), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_employment_end_ground_id_labour_code_ground"),
                                    "labour_code_ground", ["end_ground_id"], ["id"])
        batch_op.create_check_constraint(
            "end_category", "end_category IS NULL OR end_category IN ("
            + ", ".join(f"'{c}'" for c in CATEGORIES) + ")")

    conn = op.get_bind()
    reason = sa.table("employment_end_reason", sa.column("code"), sa.column("ground_code"), sa.column("category"))
    for code, (g, cat) in MAPPING.items():
        conn.execute(reason.update().where(reason.c.code == code).values(ground_code=g, category=cat))
    conn.execute(sa.text(f"UPDATE employment_end_reason SET category = {FLAG_CATEGORY} WHERE category IS NULL"))
    conn.execute(sa.text(
        "UPDATE employment SET "
        "end_category = (SELECT r.category FROM employment_end_reason r WHERE r.id = employment.end_reason_id), "
        "end_ground_id = (SELECT g.id FROM employment_end_reason r JOIN labour_code_ground g "
        "ON g.code = r.ground_code WHERE r.id = employment.end_reason_id) "
        "WHERE end_reason_id IS NOT NULL"))


def downgrade():
    with op.batch_alter_table("employment", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_employment_end_category"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_employment_end_ground_id_labour_code_ground"), type_="foreignkey")
        batch_op.drop_column("end_category")
        batch_op.drop_column("end_ground_id")
    with op.batch_alter_table("employment_end_reason", schema=None) as batch_op:
        batch_op.drop_column("category")
        batch_op.drop_column("ground_code")
    op.drop_table("labour_code_ground")
