"""Labelled secret samples: credentials planted where people paste them, and look-alikes that are not.

Positives put a random, format-valid value of each provider into the places a chat user copies
from: source code, ``.env`` files, shell history, YAML and JSON configuration, logs, stack traces
and questions ("why does this fail: ..."). Every value is drawn from a seeded generator, so no
value is a real credential and every run sees the same characters. Hard negatives hold what a
secret scanner is tempted by and must leave alone: git SHAs, UUIDs, lockfile and image digests,
base64 images, source maps, public keys, object ids and placeholder keys.

Samples are split twice: each template belongs to one split, and each split draws its values from
its own seeds, so the held-out figures come from contexts and values never looked at while tuning.
"""

from __future__ import annotations

import base64
import json
import random
import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from evaluation.samples import Kind, Sample, Span, Split

ALNUM = string.ascii_letters + string.digits
B64URL = ALNUM + "-_"
B64 = ALNUM + "+/"
HEX = "0123456789abcdef"
BASE32 = string.ascii_uppercase + "234567"

REPEATS = 4
"""Values planted per provider and template, each with its own seed."""


def _chars(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _b64_of_random(rng: random.Random, n_bytes: int, head: bytes = b"") -> str:
    return base64.b64encode(head + rng.randbytes(n_bytes)).decode()


def _b64url_json(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode().rstrip("=")


# Positives ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Payload:
    """What is planted: `text`, of which `spans` ((start, end, type) within `text`) are secret."""

    text: str
    spans: tuple[tuple[int, int, str], ...]


def _whole(entity_type: str) -> Callable[[str], Payload]:
    return lambda value: Payload(value, ((0, len(value), entity_type),))


def _inside(text: str, value: str, entity_type: str) -> Payload:
    """`text` with the one occurrence of `value` in it as the secret."""
    start = text.rindex(value)
    return Payload(text, ((start, start + len(value), entity_type),))


def _openai(rng: random.Random) -> Payload:
    # Project, service-account and admin keys: 74 characters, the marker, 74 more. Legacy user
    # keys: 20, the marker, 20.
    kind = rng.choice(("proj", "svcacct", "admin", "legacy"))
    if kind == "legacy":
        value = f"sk-{_chars(rng, ALNUM, 20)}T3BlbkFJ{_chars(rng, ALNUM, 20)}"
    else:
        value = f"sk-{kind}-{_chars(rng, B64URL, 74)}T3BlbkFJ{_chars(rng, B64URL, 74)}"
    return _whole("OPENAI_API_KEY")(value)


def _anthropic(rng: random.Random) -> Payload:
    kind = rng.choice(("api03", "api03", "admin01"))
    return _whole("ANTHROPIC_API_KEY")(f"sk-ant-{kind}-{_chars(rng, B64URL, 93)}AA")


def _github(rng: random.Random) -> Payload:
    prefix = rng.choice(("ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_"))
    if prefix == "github_pat_":
        value = f"github_pat_{_chars(rng, ALNUM, 22)}_{_chars(rng, ALNUM, 59)}"
    else:
        value = prefix + _chars(rng, ALNUM, 36)
    return _whole("GITHUB_TOKEN")(value)


def _gitlab(rng: random.Random) -> Payload:
    kind = rng.choice(("glpat-", "glpat-", "glrt-", "gldt-", "glptt-"))
    body = _chars(rng, HEX, 40) if kind == "glptt-" else _chars(rng, B64URL, 20)
    return _whole("GITLAB_TOKEN")(kind + body)


def _slack(rng: random.Random) -> Payload:
    kind = rng.choice(("xoxb", "xoxp", "xapp", "webhook"))
    team, user = rng.randrange(10**9, 10**12), rng.randrange(10**9, 10**12)
    if kind == "xoxb":
        value = f"xoxb-{team}-{user}-{_chars(rng, ALNUM, 24)}"
    elif kind == "xoxp":
        value = f"xoxp-{team}-{user}-{rng.randrange(10**11, 10**13)}-{_chars(rng, HEX, 32)}"
    elif kind == "xapp":
        value = f"xapp-1-A{_chars(rng, BASE32, 10)}-{rng.randrange(10**12, 10**13)}-{_chars(rng, HEX, 64)}"
    else:
        path = f"T{_chars(rng, BASE32, 10)}/B{_chars(rng, BASE32, 10)}/{_chars(rng, ALNUM, 24)}"
        value = f"https://hooks.slack.com/services/{path}"
    return _whole("SLACK_TOKEN")(value)


def _stripe(rng: random.Random) -> Payload:
    prefix = rng.choice(("sk_live_", "rk_live_"))
    body = _chars(rng, ALNUM, 24) if rng.random() < 0.3 else "51" + _chars(rng, ALNUM, 97)
    return _whole("STRIPE_API_KEY")(prefix + body)


def _google(rng: random.Random) -> Payload:
    return _whole("GOOGLE_API_KEY")("AIza" + _chars(rng, B64URL, 35))


def _huggingface(rng: random.Random) -> Payload:
    prefix = "api_org_" if rng.random() < 0.2 else "hf_"
    return _whole("HUGGINGFACE_TOKEN")(prefix + _chars(rng, string.ascii_letters, 34))


def _jwt(rng: random.Random) -> Payload:
    alg = rng.choice(("HS256", "RS256", "ES256"))
    claims = {
        "sub": str(rng.randrange(10**6, 10**9)),
        "iss": rng.choice(("https://auth.example.com/", "api", "identity")),
        "iat": rng.randrange(1_600_000_000, 1_750_000_000),
        "scope": rng.choice(("read write", "openid profile", "admin")),
    }
    signature = _chars(rng, B64URL, {"HS256": 43, "RS256": 342, "ES256": 86}[alg])
    value = f"{_b64url_json({'alg': alg, 'typ': 'JWT'})}.{_b64url_json(claims)}.{signature}"
    return _whole("JWT")(value)


def _azure_storage(rng: random.Random) -> Payload:
    key = _b64_of_random(rng, 64)
    account = "st" + _chars(rng, string.ascii_lowercase + string.digits, 10)
    text = (
        f"DefaultEndpointsProtocol=https;AccountName={account};AccountKey={key};"
        "EndpointSuffix=core.windows.net"
    )
    return _inside(text, key, "AZURE_STORAGE_KEY")


def _azure_key(rng: random.Random) -> Payload:
    """Azure OpenAI / AI services keys: 32 hexadecimal digits, recognisable only by their name."""
    return _whole("AZURE_API_KEY")(_chars(rng, HEX, 32))


def _azure_client_secret(rng: random.Random) -> Payload:
    value = f"{_chars(rng, ALNUM, 3)}{rng.randrange(10)}Q~{_chars(rng, ALNUM + '_~.-', 34)}"
    return _whole("AZURE_CLIENT_SECRET")(value)


def _aws_key_id(rng: random.Random) -> str:
    return rng.choice(("AKIA", "AKIA", "ASIA")) + _chars(rng, BASE32, 16)


def _aws_secret(rng: random.Random) -> str:
    return _chars(rng, B64, 40)


WORDS = (
    "river", "copper", "maple", "orbit", "velvet", "harbor", "falcon", "pepper", "summit", "lantern",
    "cobalt", "meadow", "tundra", "ember", "quartz", "willow", "saffron", "glacier", "thistle", "canyon",
)  # fmt: skip


def _password_value(rng: random.Random) -> str:
    """Passwords as people choose them: word-digits-symbol, random, or a passphrase."""
    style = rng.randrange(3)
    if style == 0:
        return rng.choice(WORDS).capitalize() + str(rng.randrange(10, 9999)) + rng.choice("!#?*.")
    if style == 1:
        return _chars(rng, ALNUM + "!#%&*+-.=?^_~", rng.randrange(12, 24))
    return "-".join(rng.choice(WORDS) for _ in range(4))


def _password(rng: random.Random) -> Payload:
    return _whole("PASSWORD")(_password_value(rng))


def _url_password(rng: random.Random) -> Payload:
    password = _password_value(rng).replace("#", "!").replace("?", "!")
    user = rng.choice(("app", "admin", "svc_orders", "deploy", "readonly", ""))
    scheme, host = rng.choice(
        (
            ("postgresql", "db.internal:5432/orders"),
            ("mysql", "mysql.prod.example.net:3306/shop"),
            ("redis", "cache.internal:6379/0"),
            ("amqp", "rabbit.internal:5672/%2F"),
            ("mongodb+srv", "cluster0.example.mongodb.net/app?retryWrites=true"),
            ("https", "git.example.org/team/app.git"),
        )
    )
    return _inside(f"{scheme}://{user}:{password}@{host}", password, "PASSWORD")


def _secret_assignment(rng: random.Random) -> Payload:
    style = rng.randrange(3)
    if style == 0:
        value = _chars(rng, HEX, rng.choice((32, 40, 64)))
    elif style == 1:
        value = _chars(rng, B64URL, rng.randrange(32, 64))
    else:
        value = "django-insecure-" + _chars(rng, string.ascii_lowercase + string.digits + "!@#%^&*(-_=+)", 50)
    return _whole("SECRET")(value)


# Templates ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Template:
    """A context: `{v}` is the planted payload; `{NAME}`, `{name}` and `{camel}` are the name the
    value usually goes by, as an environment variable, a snake_case and a camelCase identifier.
    `named` says whether that name appears, which values without a telling format need."""

    id: str
    text: str
    split: Split
    named: bool = True


D, H = Split.DEV, Split.HELDOUT

GENERIC = (
    Template("env-file", "# local settings\nDEBUG=false\nPORT=8080\n{NAME}={v}\nLOG_LEVEL=info\n", D),
    Template(
        "python-client",
        'import os\n\n{name} = "{v}"\nresp = session.get(url, headers={{"X-Api-Key": {name}}})\n'
        "resp.raise_for_status()\n",
        D,
    ),
    Template("shell-history", "  501  cd ~/src/app\n  502  export {NAME}={v}\n  503  make run\n", D),
    Template(
        "yaml-config",
        "service:\n  name: billing\n  replicas: 2\ncredentials:\n  {name}: {v}\n  timeout: 30\n",
        D,
    ),
    Template(
        "chat-question",
        "why does this fail with 401? I set it like this:\n\n{name} = '{v}'\n\nand call the API right after.",
        D,
    ),
    Template("log-line", "2024-03-11T09:12:44Z WARN  auth: request rejected key={v} status=401\n", D, False),
    Template("prose", "My key is {v} and it stopped working yesterday, can you see why?", D, False),
    Template(
        "json-config",
        '{{\n  "region": "eu-west-1",\n  "{camel}": "{v}",\n  "timeout": 30\n}}\n',
        H,
    ),
    Template("js-code", "const client = new Client({{\n  {camel}: '{v}',\n  retries: 3,\n}});\n", H),
    Template(
        "docker-compose",
        "services:\n  api:\n    image: app:latest\n    environment:\n      - {NAME}={v}\n      - PORT=80\n",
        H,
    ),
    Template("dockerfile", 'FROM python:3.12-slim\nENV {NAME}={v}\nCMD ["python", "main.py"]\n', H),
    Template(
        "curl",
        'curl -s https://api.example.net/v1/items -H "Authorization: Bearer {v}" -H "Accept: text/csv"',
        H,
        False,
    ),
    Template(
        "traceback",
        'Traceback (most recent call last):\n  File "main.py", line 12, in <module>\n'
        '    client.login("{v}")\nAuthError: invalid credentials\n',
        H,
        False,
    ),
)


@dataclass(frozen=True, slots=True)
class Provider:
    name: str
    """The sample's `source`."""
    make: Callable[[random.Random], Payload]
    names: tuple[str, ...]
    """Environment-variable names the value goes by."""
    evident: bool = True
    """Recognisable by its format alone, so also planted where no name says what it is."""
    templates: tuple[Template, ...] = GENERIC


PASSWORD_TEMPLATES = (
    *GENERIC,
    Template(
        "mysql-cli", "$ mysql -h db.internal -u root -p'{v}' shop\nERROR 1045 (28000): Access denied\n", D
    ),
    Template(
        "java-properties",
        "spring.datasource.url=jdbc:postgresql://db:5432/app\nspring.datasource.password={v}\n",
        D,
    ),
    Template("pgpassword", "PGPASSWORD='{v}' psql -h db.internal -U app -c 'select 1'\n", H),
    Template("netrc", "machine api.example.com\n  login deploy\n  password {v}\n", H),
)

URL_TEMPLATES = (
    *(t for t in GENERIC if t.named),
    Template("chat-connect", "psql can't connect with {v} - is the port wrong?", D),
    Template("log-connect", "ERROR sqlalchemy.pool: could not connect to {v}: timeout expired\n", H),
)

PROVIDERS = (
    Provider("openai", _openai, ("OPENAI_API_KEY", "OPENAI_KEY", "OPENAI_ADMIN_KEY")),
    Provider("anthropic", _anthropic, ("ANTHROPIC_API_KEY", "CLAUDE_API_KEY")),
    Provider("github", _github, ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_PAT")),
    Provider("gitlab", _gitlab, ("GITLAB_TOKEN", "CI_JOB_TOKEN", "GITLAB_PAT")),
    Provider("slack", _slack, ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_WEBHOOK_URL")),
    Provider("stripe", _stripe, ("STRIPE_SECRET_KEY", "STRIPE_API_KEY")),
    Provider("google", _google, ("GOOGLE_API_KEY", "GEMINI_API_KEY", "MAPS_API_KEY")),
    Provider("huggingface", _huggingface, ("HF_TOKEN", "HUGGINGFACE_HUB_TOKEN")),
    Provider("jwt", _jwt, ("ACCESS_TOKEN", "ID_TOKEN", "SESSION_JWT")),
    Provider("azure-storage", _azure_storage, ("AZURE_STORAGE_CONNECTION_STRING", "STORAGE_CONN")),
    Provider("azure-openai", _azure_key, ("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_KEY"), evident=False),
    Provider("azure-client-secret", _azure_client_secret, ("AZURE_CLIENT_SECRET", "AAD_CLIENT_SECRET")),
    Provider(
        "password",
        _password,
        ("DB_PASSWORD", "POSTGRES_PASSWORD", "SMTP_PASSWORD", "ADMIN_PASSWORD"),
        evident=False,
        templates=PASSWORD_TEMPLATES,
    ),
    Provider(
        "url-password", _url_password, ("DATABASE_URL", "REDIS_URL", "BROKER_URL"), templates=URL_TEMPLATES
    ),
    Provider(
        "secret-assignment",
        _secret_assignment,
        ("SECRET_KEY", "JWT_SECRET", "CLIENT_SECRET", "SESSION_SECRET"),
        evident=False,
    ),
)


def _prefixed(entity_type: str, *parts: str | tuple[str, int]) -> Callable[[random.Random], Payload]:
    """A maker for ``prefix + random run + ...``: a string is literal, (alphabet, n) is random."""

    def make(rng: random.Random) -> Payload:
        value = "".join(p if isinstance(p, str) else _chars(rng, *p) for p in parts)
        return _whole(entity_type)(value)

    return make


OTHER_PROVIDERS = (
    Provider("other/npm", _prefixed("NPM_TOKEN", "npm_", (ALNUM, 36)), ("NPM_TOKEN",)),
    Provider("other/pypi", _prefixed("PYPI_TOKEN", "pypi-AgEIcHlwaS5vcmc", (B64URL, 120)), ("PYPI_TOKEN",)),
    Provider(
        "other/sendgrid",
        _prefixed("SENDGRID_API_KEY", "SG.", (B64URL, 22), ".", (B64URL, 43)),
        ("SENDGRID_API_KEY",),
    ),
    Provider("other/twilio", _prefixed("TWILIO_API_KEY", "SK", (HEX, 32)), ("TWILIO_API_KEY",)),
    Provider(
        "other/digitalocean", _prefixed("DIGITALOCEAN_API_KEY", "dop_v1_", (HEX, 64)), ("DIGITALOCEAN_TOKEN",)
    ),
    Provider(
        "other/shopify", _prefixed("SHOPIFY_ACCESS_TOKEN", "shpat_", (HEX, 32)), ("SHOPIFY_ACCESS_TOKEN",)
    ),
    Provider(
        "other/openrouter", _prefixed("OPENROUTER_API_KEY", "sk-or-v1-", (HEX, 64)), ("OPENROUTER_API_KEY",)
    ),
    Provider("other/groq", _prefixed("GROQ_API_KEY", "gsk_", (ALNUM, 52)), ("GROQ_API_KEY",)),
    Provider("other/deepseek", _prefixed("DEEPSEEK_API_KEY", "sk-", (HEX, 32)), ("DEEPSEEK_API_KEY",)),
    Provider("other/xai", _prefixed("XAI_API_KEY", "xai-", (ALNUM, 80)), ("XAI_API_KEY",)),
    Provider(
        "other/perplexity", _prefixed("PERPLEXITY_API_KEY", "pplx-", (ALNUM, 48)), ("PERPLEXITY_API_KEY",)
    ),
    Provider(
        "other/replicate", _prefixed("REPLICATE_API_TOKEN", "r8_", (ALNUM, 37)), ("REPLICATE_API_TOKEN",)
    ),
    Provider("other/databricks", _prefixed("DATABRICKS_API_TOKEN", "dapi", (HEX, 32)), ("DATABRICKS_TOKEN",)),
    Provider("other/doppler", _prefixed("DOPPLER_API_TOKEN", "dp.st.prd.", (ALNUM, 43)), ("DOPPLER_TOKEN",)),
    Provider(
        "other/postman",
        _prefixed("POSTMAN_API_KEY", "PMAK-", (HEX, 24), "-", (HEX, 34)),
        ("POSTMAN_API_KEY",),
    ),
    Provider("other/linear", _prefixed("LINEAR_API_KEY", "lin_api_", (ALNUM, 40)), ("LINEAR_API_KEY",)),
    Provider("other/sentry", _prefixed("SENTRY_USER_TOKEN", "sntryu_", (HEX, 64)), ("SENTRY_AUTH_TOKEN",)),
    Provider(
        "other/grafana",
        _prefixed("GRAFANA_SERVICE_ACCOUNT_TOKEN", "glsa_", (ALNUM, 32), "_", (HEX, 8)),
        ("GRAFANA_SA_TOKEN",),
    ),
    Provider(
        "other/mailgun", _prefixed("MAILGUN_PRIVATE_API_TOKEN", "key-", (HEX, 32)), ("MAILGUN_API_KEY",)
    ),
    Provider(
        "other/supabase",
        _prefixed("SUPABASE_MANAGEMENT_TOKEN", "sbp_", (HEX, 40)),
        ("SUPABASE_ACCESS_TOKEN",),
    ),
    Provider(
        "other/telegram",
        _prefixed("TELEGRAM_BOT_TOKEN", ("123456789", 10), ":AA", (B64URL, 33)),
        ("TELEGRAM_BOT_TOKEN",),
    ),
)
"""Providers the issue does not list, one value per template: they measure how far an engine
reaches beyond the formats it was tuned on, and are reported apart."""

AWS_TEMPLATES = (
    Template(
        "aws-credentials-file",
        "[default]\naws_access_key_id = {k}\naws_secret_access_key = {s}\nregion = us-east-1\n",
        D,
    ),
    Template("aws-env", "export AWS_ACCESS_KEY_ID={k}\nexport AWS_SECRET_ACCESS_KEY={s}\n", D),
    Template(
        "aws-boto3",
        's3 = boto3.client(\n    "s3",\n    aws_access_key_id="{k}",\n    aws_secret_access_key="{s}",\n)\n',
        D,
    ),
    Template("aws-csv", "Access key ID,Secret access key\n{k},{s}\n", H),
    Template(
        "aws-sts-json",
        '{{"Credentials": {{"AccessKeyId": "{k}", "SecretAccessKey": "{s}", '
        '"Expiration": "2024-06-01T12:00:00Z"}}}}',
        H,
    ),
    Template(
        "aws-docker",
        "docker run --rm -e AWS_ACCESS_KEY_ID={k} -e AWS_SECRET_ACCESS_KEY={s} amazon/aws-cli s3 ls\n",
        H,
    ),
)

KEY_TEMPLATES = (
    Template("key-chat", "Here is the key our deploy job uses, why does ssh say invalid format?\n\n{v}\n", D),
    Template("key-yaml-block", "tls:\n  cert_file: /etc/ssl/app.crt\n  key: |\n    {v}\n  verify: true\n", D),
    Template(
        "key-python-escaped", 'SIGNING_KEY = "{v}"\ntoken = jwt.encode(claims, SIGNING_KEY, "RS256")\n', D
    ),
    Template(
        "key-service-account",
        '{{"type": "service_account", "project_id": "demo-431207", "private_key": "{v}\\n", '
        '"token_uri": "https://oauth2.googleapis.com/token"}}',
        H,
    ),
    Template("key-terminal", "$ cat ~/.ssh/id_deploy\n{v}\n$ ssh -i ~/.ssh/id_deploy deploy@build-01\n", H),
    Template("key-env-quoted", 'JWT_PRIVATE_KEY="{v}"\nJWT_TTL=3600\n', H),
)

_KEY_HEADS = {
    "RSA": "MIIEowIBAAKCAQEA",
    "": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ",
    "EC": "MHcCAQEEI",
    "ENCRYPTED": "MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI",
    "OPENSSH": "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
}


def _private_key_block(rng: random.Random) -> str:
    kind = rng.choice(tuple(_KEY_HEADS))
    width, size = (70, 300) if kind == "OPENSSH" else (64, {"EC": 90, "": 900}.get(kind, 880))
    body = _KEY_HEADS[kind] + _b64_of_random(rng, size)
    lines = [body[i : i + width] for i in range(0, len(body), width)]
    label = f"{kind} PRIVATE KEY" if kind else "PRIVATE KEY"
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"])


def _key_payload(template: Template, block: str) -> str:
    """The block as that context writes it: indented in YAML, with escaped newlines in strings."""
    if template.id == "key-yaml-block":
        return block.replace("\n", "\n    ")
    if template.id in ("key-python-escaped", "key-service-account"):
        return block.replace("\n", "\\n")
    return block


def _render(template: str, slots: dict[str, Payload | str]) -> tuple[str, list[Span]]:
    """`template` with its slots filled in, and the secret spans of the payloads in the result."""
    text, spans, last = [], [], 0
    pieces = re.split(r"(\{\w+\})", template.replace("{{", "\0").replace("}}", "\1"))
    for piece in pieces:
        piece = piece.replace("\0", "{").replace("\1", "}")
        slot = slots.get(piece[1:-1]) if piece.startswith("{") and piece.endswith("}") else None
        if isinstance(slot, Payload):
            spans.extend(Span(last + s, last + e, t) for s, e, t in slot.spans)
            piece = slot.text
        elif isinstance(slot, str):
            piece = slot
        text.append(piece)
        last += len(piece)
    return "".join(text), spans


def _names(env_name: str) -> dict[str, str]:
    words = env_name.lower().split("_")
    return {
        "NAME": env_name,
        "name": env_name.lower(),
        "camel": words[0] + "".join(w.title() for w in words[1:]),
    }


SEED = "maskgate-secrets-v1"


def _rng(split: Split, *parts: object) -> random.Random:
    """A generator of its own for each sample: the split is part of the seed, so dev and held-out
    never share a value, and adding a template changes no other sample."""
    return random.Random(":".join(map(str, (SEED, split, *parts))))


def _positives() -> Iterator[Sample]:
    for provider in (*PROVIDERS, *OTHER_PROVIDERS):
        repeats = 1 if provider in OTHER_PROVIDERS else REPEATS
        for template in provider.templates:
            if not (template.named or provider.evident):
                continue
            for i in range(repeats):
                rng = _rng(template.split, provider.name, template.id, i)
                slots = {"v": provider.make(rng), **_names(rng.choice(provider.names))}
                yield _sample(f"{provider.name}/{template.id}/{i}", template, slots, provider.name)
    for template in AWS_TEMPLATES:
        for i in range(REPEATS):
            rng = _rng(template.split, "aws", template.id, i)
            key_id, secret = _aws_key_id(rng), _aws_secret(rng)
            slots = {"k": _whole("AWS_ACCESS_KEY_ID")(key_id), "s": _whole("AWS_SECRET_ACCESS_KEY")(secret)}
            yield _sample(f"aws/{template.id}/{i}", template, slots, "aws")
    for template in KEY_TEMPLATES:
        for i in range(REPEATS):
            payload = _key_payload(template, _private_key_block(_rng(template.split, "key", template.id, i)))
            slots = {"v": _whole("PRIVATE_KEY")(payload)}
            yield _sample(f"private-key/{template.id}/{i}", template, slots, "private-key")


def _sample(sample_id: str, template: Template, slots: dict[str, Payload | str], source: str) -> Sample:
    text, spans = _render(template.text, slots)
    return Sample(f"secret/{sample_id}", text, tuple(spans), Kind.SECRET, template.split, source)


# Hard negatives -------------------------------------------------------------------------------


def _sha(rng: random.Random, n: int = 40) -> str:
    return _chars(rng, HEX, n)


def _uuid(rng: random.Random) -> str:
    h = _chars(rng, HEX, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{rng.choice('89ab')}{h[17:20]}-{h[20:]}"


def _sri(rng: random.Random, bits: int = 512) -> str:
    return f"sha{bits}-" + _b64_of_random(rng, bits // 8)


SUBJECTS = (
    "Fix race in cache eviction", "Bump lodash to 4.17.21", "Add retry to upload client",
    "Refactor auth middleware", "Merge pull request #482 from feature/export", "Update README",
    "Drop Python 3.8", "Handle empty CSV rows",
)  # fmt: skip
PACKAGES = ("lodash", "react-dom", "chalk", "debug", "semver", "axios", "commander", "uuid", "yaml", "tslib")
CRATES = ("serde", "tokio", "anyhow", "regex", "rand", "clap", "bytes", "itoa", "libc", "memchr")
PYPKGS = ("requests", "urllib3", "idna", "certifi", "charset-normalizer", "attrs", "packaging", "six")


def _versions(rng: random.Random) -> str:
    return f"{rng.randrange(1, 9)}.{rng.randrange(0, 30)}.{rng.randrange(0, 20)}"


def _git_oneline(rng: random.Random) -> str:
    return "\n".join(f"{_sha(rng, 7)} {rng.choice(SUBJECTS)}" for _ in range(6)) + "\n"


def _git_log(rng: random.Random) -> str:
    return "\n".join(
        f"commit {_sha(rng)}\nDate:   Tue Mar 12 10:{rng.randrange(10, 59)}:02 2024 +0100\n\n"
        f"    {rng.choice(SUBJECTS)}\n"
        for _ in range(3)
    )


def _git_rebase(rng: random.Random) -> str:
    lines = [
        f"{rng.choice(('pick', 'squash', 'fixup'))} {_sha(rng, 10)} {rng.choice(SUBJECTS)}" for _ in range(5)
    ]
    return "\n".join(lines) + "\n\n# Rebase 3f2a9c1..9e1b7d0 onto 3f2a9c1 (5 commands)\n"


def _git_urls(rng: random.Random) -> str:
    return (
        f"The regression came in with https://github.com/acme/widgets/commit/{_sha(rng)} and was "
        f"reverted in {_sha(rng)}; pin it with pip install git+https://github.com/acme/widgets@{_sha(rng)}"
    )


def _uuid_log(rng: random.Random) -> str:
    return "\n".join(
        json.dumps(
            {
                "level": "info",
                "request_id": _uuid(rng),
                "trace_id": _sha(rng, 32),
                "span_id": _sha(rng, 16),
                "msg": "request completed",
                "status": 200,
            }
        )
        for _ in range(3)
    )


def _uuid_k8s(rng: random.Random) -> str:
    return (
        f"apiVersion: v1\nkind: Pod\nmetadata:\n"
        f"  name: web-{_sha(rng, 10)}-{_chars(rng, 'bcdfghjklmnpqrstvwxz2456789', 5)}\n"
        f'  uid: {_uuid(rng)}\n  resourceVersion: "{rng.randrange(10**6, 10**8)}"\n'
        f"  ownerReferences:\n  - kind: ReplicaSet\n    uid: {_uuid(rng)}\n"
    )


def _uuid_sql(rng: random.Random) -> str:
    rows = ",\n".join(f"  ('{_uuid(rng)}', '{_uuid(rng)}', {rng.randrange(1, 500)})" for _ in range(4))
    return f"INSERT INTO order_items (id, order_id, quantity) VALUES\n{rows};\n"


def _uuid_sln(rng: random.Random) -> str:
    guid = _uuid(rng).upper()
    return (
        f'Project("{{{_uuid(rng).upper()}}}") = "Api", "Api\\Api.csproj", "{{{guid}}}"\nEndProject\n'
        f"<ProjectGuid>{{{guid}}}</ProjectGuid>\n"
    )


def _package_lock(rng: random.Random) -> str:
    entries = {
        f"node_modules/{p}": {
            "version": (v := _versions(rng)),
            "resolved": f"https://registry.npmjs.org/{p}/-/{p}-{v}.tgz",
            "integrity": _sri(rng),
        }
        for p in rng.sample(PACKAGES, 3)
    }
    return json.dumps({"packages": entries}, indent=2)


def _yarn_lock(rng: random.Random) -> str:
    blocks = []
    for p in rng.sample(PACKAGES, 3):
        v = _versions(rng)
        blocks.append(
            f'{p}@^{v}:\n  version "{v}"\n  resolved "https://registry.yarnpkg.com/{p}/-/{p}-{v}.tgz#{_sha(rng)}"\n'
            f"  integrity {_sri(rng)}\n"
        )
    return "\n".join(blocks)


def _poetry_lock(rng: random.Random) -> str:
    p, v = rng.choice(PYPKGS), _versions(rng)
    files = "\n".join(
        f'    {{file = "{p}-{v}-{tag}.whl", hash = "sha256:{_sha(rng, 64)}"}},'
        for tag in ("py3-none-any", "cp312-cp312-manylinux_2_17_x86_64")
    )
    return f'[[package]]\nname = "{p}"\nversion = "{v}"\noptional = false\nfiles = [\n{files}\n]\n'


def _requirements_hashes(rng: random.Random) -> str:
    return "".join(
        f"{p}=={_versions(rng)} \\\n    --hash=sha256:{_sha(rng, 64)} \\\n    --hash=sha256:{_sha(rng, 64)}\n"
        for p in rng.sample(PYPKGS, 2)
    )


def _cargo_lock(rng: random.Random) -> str:
    return "".join(
        f'[[package]]\nname = "{c}"\nversion = "{_versions(rng)}"\n'
        f'source = "registry+https://github.com/rust-lang/crates.io-index"\nchecksum = "{_sha(rng, 64)}"\n\n'
        for c in rng.sample(CRATES, 3)
    )


def _go_sum(rng: random.Random) -> str:
    mods = ("github.com/google/uuid", "golang.org/x/sys", "github.com/stretchr/testify", "gopkg.in/yaml.v3")
    return "".join(
        f"{m} v{_versions(rng)} h1:{_b64_of_random(rng, 32)}\n"
        f"{m} v{_versions(rng)}/go.mod h1:{_b64_of_random(rng, 32)}\n"
        for m in rng.sample(mods, 2)
    )


def _terraform_lock(rng: random.Random) -> str:
    hashes = "\n".join(f'    "zh:{_sha(rng, 64)}",' for _ in range(3))
    return (
        f'provider "registry.terraform.io/hashicorp/aws" {{\n  version = "{_versions(rng)}"\n  hashes = [\n'
        f'    "h1:{_b64_of_random(rng, 32)}",\n{hashes}\n  ]\n}}\n'
    )


_PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


def _png(rng: random.Random) -> str:
    return _b64_of_random(rng, rng.randrange(120, 600), _PNG)


def _image_html(rng: random.Random) -> str:
    return f'<p>Logo:</p>\n<img alt="logo" src="data:image/png;base64,{_png(rng)}">\n'


def _image_markdown(rng: random.Random) -> str:
    jpeg = _b64_of_random(rng, rng.randrange(200, 500), b"\xff\xd8\xff\xe0\x00\x10JFIF")
    return f"Why is this screenshot blurry?\n\n![screenshot](data:image/jpeg;base64,{jpeg})\n"


def _image_css(rng: random.Random) -> str:
    path = f'<path d="M{rng.randrange(9)} 2l6 6-6 6"/>'
    svg = base64.b64encode(f'<svg xmlns="http://www.w3.org/2000/svg">{path}</svg>'.encode()).decode()
    font = _b64_of_random(rng, 300, b"wOF2")
    return (
        f".chevron {{ background: url(data:image/svg+xml;base64,{svg}) no-repeat; }}\n"
        f"@font-face {{ font-family: Icons; src: url(data:font/woff2;base64,{font}) format('woff2'); }}\n"
    )


def _image_vision_request(rng: random.Random) -> str:
    content = [
        {"type": "text", "text": "What is in this image?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{_png(rng)}"}},
    ]
    return json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": content}]})


def _docker_pull(rng: random.Random) -> str:
    layers = "\n".join(f"{_sha(rng, 12)}: Pull complete" for _ in range(3))
    return (
        f"latest: Pulling from library/nginx\n{layers}\n"
        f"Digest: sha256:{_sha(rng, 64)}\nStatus: Downloaded newer image\n"
    )


def _docker_k8s(rng: random.Random) -> str:
    return (
        f"    spec:\n      containers:\n      - name: api\n"
        f"        image: ghcr.io/acme/api@sha256:{_sha(rng, 64)}\n"
        f"      - name: proxy\n        image: envoyproxy/envoy:v1.30.1@sha256:{_sha(rng, 64)}\n"
    )


def _docker_images(rng: random.Random) -> str:
    rows = "\n".join(
        f"{repo:<22}{tag:<9}sha256:{_sha(rng, 64)}   {_sha(rng, 12)}   2 weeks ago   {rng.randrange(9, 900)}M"
        for repo, tag in (("nginx", "1.25"), ("postgres", "16"), ("redis", "7-alpine"))
    )
    return f"REPOSITORY            TAG      DIGEST{' ' * 68}IMAGE ID         CREATED       SIZE\n{rows}\n"


def _minified_js(rng: random.Random) -> str:
    names = [_chars(rng, string.ascii_letters, rng.randrange(1, 3)) for _ in range(8)]
    a, b, c, d, e, f, g, h = names
    return (
        f'!function(){{"use strict";var {a}=function({b},{c}){{return {b}.{d}({c})}},{e}={{'
        f'{f}:"{_chars(rng, ALNUM, 20)}",{g}:[{rng.randrange(99)},{rng.randrange(99)}]}};'
        f'window.__NEXT_DATA__={{"buildId":"{_chars(rng, B64URL, 21)}","page":"/"}};{h}({a},{e})}}();\n'
    )


def _webpack_assets(rng: random.Random) -> str:
    names = ("main", "vendors", "runtime", "polyfills")
    return (
        "".join(
            f"static/js/{n}.{_sha(rng, 8)}.chunk.js   {rng.randrange(2, 400)}.{rng.randrange(10)} kB\n"
            for n in names
        )
        + f'<link rel="stylesheet" href="/static/css/app.{_sha(rng, 20)}.css">\n'
    )


def _source_map(rng: random.Random) -> str:
    vlq = ";".join(
        ",".join(_chars(rng, ALNUM + "+/", rng.randrange(4, 9)) for _ in range(6)) for _ in range(6)
    )
    return json.dumps({"version": 3, "sources": ["src/index.ts"], "names": ["render"], "mappings": vlq})


def _css_modules(rng: random.Random) -> str:
    return "".join(
        f'<div class="Button_primary__{_chars(rng, B64URL, 5)} _{_chars(rng, ALNUM, 6)}_{_sha(rng, 4)}">\n'
        for _ in range(3)
    )


def _placeholder_env(rng: random.Random) -> str:
    return (
        "# .env.example - copy to .env and fill in\nOPENAI_API_KEY=sk-...\nANTHROPIC_API_KEY=YOUR_API_KEY\n"
        f"GITHUB_TOKEN=ghp_{'x' * 36}\nAWS_ACCESS_KEY_ID=AKIA{'X' * 16}\nAWS_SECRET_ACCESS_KEY=<secret>\n"
        f"DB_PASSWORD=\nPORT={rng.randrange(3000, 9000)}\n"
    )


def _placeholder_readme(rng: random.Random) -> str:
    return (
        "Call the API with your token:\n\n```sh\ncurl https://api.example.com/v1/me \\\n"
        '  -H "Authorization: Bearer <token>"\n```\n\n'
        'Or in Python: `client = OpenAI(api_key="sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")`. '
        f"The key is shown once, at https://platform.example.com/keys?page={rng.randrange(9)}.\n"
    )


def _placeholder_code(rng: random.Random) -> str:
    return (
        'password = os.environ["DB_PASSWORD"]\napi_key = settings.get("api_key")\n'
        'token: str = "{token}"\nsecret = "${CLIENT_SECRET}"\n'
        f'stripe.api_key = "sk_live_{"X" * 24}"\nPASSWORD = "********"\nretries = {rng.randrange(9)}\n'
    )


def _placeholder_config(rng: random.Random) -> str:
    return (
        "database:\n  host: db.internal\n  password: ${DB_PASSWORD}\n  pool: "
        f"{rng.randrange(4, 32)}\nauth:\n  client_secret: REPLACE_ME\n  api_key: <your-api-key>\n"
        "  token: '{{ vault_token }}'\n"
    )


def _sha256sums(rng: random.Random) -> str:
    return "".join(
        f"{_sha(rng, 64)}  app-{_versions(rng)}-{arch}.tar.gz\n" for arch in ("linux-amd64", "darwin-arm64")
    )


def _md5sum(rng: random.Random) -> str:
    return f"$ md5sum dump.sql\n{_sha(rng, 32)}  dump.sql\n$ sha1sum dump.sql\n{_sha(rng, 40)}  dump.sql\n"


def _sri_script(rng: random.Random) -> str:
    return (
        f'<script src="https://cdn.example.net/lib@{_versions(rng)}/dist/lib.min.js"\n'
        f'        integrity="{_sri(rng, 384)}" crossorigin="anonymous"></script>\n'
    )


def _http_headers(rng: random.Random) -> str:
    return (
        f'HTTP/1.1 200 OK\nETag: "{_sha(rng, 32)}"\nContent-MD5: {_b64_of_random(rng, 16)}\n'
        f"x-amz-request-id: {_chars(rng, BASE32, 16)}\nx-amz-id-2: {_b64_of_random(rng, 48)}\n"
        f"Cache-Control: max-age={rng.randrange(60, 86400)}\n"
    )


def _openai_response(rng: random.Random) -> str:
    return json.dumps(
        {
            "id": f"chatcmpl-{_chars(rng, ALNUM, 29)}",
            "object": "chat.completion",
            "system_fingerprint": f"fp_{_sha(rng, 10)}",
            "choices": [
                {
                    "message": {
                        "role": "assistant",
                        "tool_calls": [{"id": f"call_{_chars(rng, ALNUM, 24)}", "type": "function"}],
                    }
                }
            ],
        }
    )


def _openai_ids(rng: random.Random) -> str:
    return (
        f"created assistant asst_{_chars(rng, ALNUM, 24)} on thread thread_{_chars(rng, ALNUM, 24)}\n"
        f"uploaded file-{_chars(rng, ALNUM, 22)} to vector store vs_{_chars(rng, ALNUM, 24)}\n"
        f"run run_{_chars(rng, ALNUM, 24)} finished, response resp_{_sha(rng, 48)}\n"
    )


def _stripe_ids(rng: random.Random) -> str:
    return json.dumps(
        {
            "id": f"evt_{_chars(rng, ALNUM, 24)}",
            "type": "payment_intent.succeeded",
            "data": {
                "object": {
                    "id": f"pi_{_chars(rng, ALNUM, 24)}",
                    "customer": f"cus_{_chars(rng, ALNUM, 14)}",
                    "payment_method": f"pm_{_chars(rng, ALNUM, 24)}",
                }
            },
            "request": {"idempotency_key": _uuid(rng)},
        }
    )


def _ssh_public_key(rng: random.Random) -> str:
    ed = _b64_of_random(rng, 32, b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00 ")
    rsa = _b64_of_random(rng, 260, b"\x00\x00\x00\x07ssh-rsa\x00\x00\x00\x03\x01\x00\x01")
    return f"# ~/.ssh/authorized_keys\nssh-ed25519 {ed} ci-runner\nssh-rsa {rsa} build-agent\n"


def _pem_public(rng: random.Random) -> str:
    label = rng.choice(("CERTIFICATE", "PUBLIC KEY"))
    body = _b64_of_random(rng, 600 if label == "CERTIFICATE" else 294)
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"ca.pem:\n-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n"


def _names_typescript(rng: random.Random) -> str:
    field = rng.choice(("password", "apiKey", "accessToken", "clientSecret"))
    return (
        f"interface LoginRequest {{\n  username: string;\n  {field}: string;\n  remember?: boolean;\n}}\n\n"
        f"function login(req: LoginRequest) {{\n  return api.post('/login', {{ {field}: req.{field} }})\n}}\n"
    )


def _names_python_model(rng: random.Random) -> str:
    return (
        "class Settings(BaseSettings):\n    db_password: SecretStr\n    api_token: Optional[str] = None\n"
        f"    token_ttl: int = {rng.randrange(60, 7200)}\n    secret_key: str = Field(..., min_length=32)\n\n"
        "settings = Settings()\nconnect(password=settings.db_password.get_secret_value())\n"
    )


def _names_shell(rng: random.Random) -> str:
    return (
        "export GITHUB_TOKEN=$(gh auth token)\nread -rs DB_PASSWORD\n"
        'curl -u "$API_USER:$API_PASSWORD" https://api.example.com/v1/status\n'
        f"export TOKEN_TTL={rng.randrange(60, 7200)}\nSECRET_FILE=/run/secrets/app_key\n"
    )


def _names_django(rng: random.Random) -> str:
    return (
        'SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]\nDATABASES = {\n    "default": {\n'
        '        "ENGINE": "django.db.backends.postgresql",\n        "PASSWORD": env("DB_PASSWORD"),\n'
        f'        "PORT": {rng.randrange(5432, 5440)},\n    }}\n}}\nAUTH_PASSWORD_VALIDATORS = []\n'
    )


def _names_ci(rng: random.Random) -> str:
    return (
        "      - uses: actions/checkout@v4\n        with:\n          token: ${{ secrets.GITHUB_TOKEN }}\n"
        "      env:\n        NPM_TOKEN: ${{ secrets.NPM_TOKEN }}\n        - name: DB_PASSWORD\n"
        f"          valueFrom:\n            secretKeyRef:\n              name: db-{rng.randrange(9)}\n"
        "              key: password\n"
    )


def _names_tokens(rng: random.Random) -> str:
    return (
        f'response = client.chat.completions.create(model="gpt-4o", max_tokens={rng.randrange(64, 4096)})\n'
        "usage = response.usage.total_tokens\ntokenizer = tiktoken.get_encoding('cl100k_base')\n"
        "token_count = len(tokenizer.encode(text))\nPassword: use the reset link in the e-mail.\n"
    )


HARD_NEGATIVES: tuple[tuple[str, Split, Callable[[random.Random], str]], ...] = (
    ("git-sha", D, _git_oneline),
    ("git-sha", H, _git_log),
    ("git-sha", D, _git_rebase),
    ("git-sha", H, _git_urls),
    ("uuid", D, _uuid_log),
    ("uuid", H, _uuid_k8s),
    ("uuid", D, _uuid_sql),
    ("uuid", H, _uuid_sln),
    ("npm-lock", D, _package_lock),
    ("npm-lock", H, _yarn_lock),
    ("python-lock", D, _poetry_lock),
    ("python-lock", H, _requirements_hashes),
    ("cargo-go-lock", D, _cargo_lock),
    ("cargo-go-lock", H, _go_sum),
    ("cargo-go-lock", H, _terraform_lock),
    ("base64-image", D, _image_html),
    ("base64-image", D, _image_markdown),
    ("base64-image", H, _image_css),
    ("base64-image", H, _image_vision_request),
    ("docker-digest", D, _docker_pull),
    ("docker-digest", H, _docker_k8s),
    ("docker-digest", D, _docker_images),
    ("minified", D, _minified_js),
    ("minified", H, _webpack_assets),
    ("minified", H, _source_map),
    ("minified", D, _css_modules),
    ("placeholder", D, _placeholder_env),
    ("placeholder", H, _placeholder_readme),
    ("placeholder", D, _placeholder_code),
    ("placeholder", H, _placeholder_config),
    ("checksum", D, _sha256sums),
    ("checksum", H, _md5sum),
    ("checksum", D, _sri_script),
    ("checksum", H, _http_headers),
    ("object-id", D, _openai_response),
    ("object-id", H, _openai_ids),
    ("object-id", D, _stripe_ids),
    ("public-key", D, _ssh_public_key),
    ("public-key", H, _pem_public),
    ("secret-names", D, _names_typescript),
    ("secret-names", D, _names_python_model),
    ("secret-names", D, _names_shell),
    ("secret-names", H, _names_django),
    ("secret-names", H, _names_ci),
    ("secret-names", H, _names_tokens),
)


def _hard_negatives() -> Iterator[Sample]:
    for category, split, make in HARD_NEGATIVES:
        name = make.__name__.lstrip("_").replace("_", "-")
        for i in range(REPEATS):
            text = make(_rng(split, category, name, i))
            yield Sample(
                f"hard-negative/{category}/{name}/{i}", text, (), Kind.HARD_NEGATIVE, split, category
            )


def secret_samples() -> list[Sample]:
    """Every secret sample and hard negative, dev and held-out, in a stable order."""
    return [*_positives(), *_hard_negatives()]
