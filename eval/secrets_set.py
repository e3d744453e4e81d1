"""Synthetic secrets in realistic places (env files, code, configs, chat), and near-misses.

Positives are generated in each provider's documented format from random characters (a
real RSA key for PEM, a signed JWT); negatives are what secret scanners trip on: password
variables, references to environment variables, placeholders, hashes, UUIDs, git SHAs.
"""

from __future__ import annotations

import random
import string
import uuid
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from faker import Faker

_ALNUM = string.ascii_letters + string.digits
_UPPER = string.ascii_uppercase + "234567"


@dataclass(frozen=True)
class SecretSample:
    text: str
    secret: str | None  # the planted secret (None: a negative)
    kind: str


def _r(rng: random.Random, n: int, alphabet: str = _ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _generators(rng: random.Random, fake: Faker) -> dict[str, str]:
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=1024)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        .decode()
    )
    token = jwt.encode(
        {"sub": fake.user_name(), "iat": rng.randint(1, 2**31)}, _r(rng, 32), algorithm="HS256"
    )
    return {
        "OPENAI_KEY": "sk-proj-" + _r(rng, 48, _ALNUM + "-_"),
        "OPENAI_KEY_LEGACY": "sk-" + _r(rng, 20) + "T3BlbkFJ" + _r(rng, 20),
        "ANTHROPIC_KEY": "sk-ant-api03-" + _r(rng, 93, _ALNUM + "-_") + "AA",
        "AWS_ACCESS_KEY": "AKIA" + _r(rng, 16, _UPPER),
        "GCP_API_KEY": "AIza" + _r(rng, 35, _ALNUM + "-_"),
        "GITHUB_TOKEN": rng.choice(["ghp_", "gho_", "ghs_"]) + _r(rng, 36),
        "GITHUB_PAT": "github_pat_" + _r(rng, 22) + "_" + _r(rng, 59),
        "GITLAB_TOKEN": "glpat-" + _r(rng, 20, _ALNUM + "-_"),
        "SLACK_TOKEN": f"xoxb-{rng.randint(10**11, 10**12)}-{rng.randint(10**12, 10**13)}-{_r(rng, 24)}",
        "SLACK_WEBHOOK": f"https://hooks.slack.com/services/T{_r(rng, 10, _UPPER)}/B{_r(rng, 10, _UPPER)}/{_r(rng, 24)}",
        "STRIPE_KEY": rng.choice(["sk_live_", "rk_live_", "sk_test_"]) + _r(rng, 24),
        "SENDGRID_KEY": "SG." + _r(rng, 22, _ALNUM + "-_") + "." + _r(rng, 43, _ALNUM + "-_"),
        "NPM_TOKEN": "npm_" + _r(rng, 36),
        "HUGGINGFACE_TOKEN": "hf_" + _r(rng, 34, string.ascii_letters),
        "PRIVATE_KEY": pem.strip(),
        "JWT": token,
        "TWILIO_KEY": "SK" + _r(rng, 32, "0123456789abcdef"),
    }


_PLACES = (
    "export {env}={value}",
    'client = Client(api_key="{value}")',
    '{{"{env_lower}": "{value}", "region": "us-east-1"}}',
    "Hey, can you check why this fails? I'm using {value} as the key.",
    "{env}: {value}",
    "curl -H 'Authorization: Bearer {value}' https://api.example.com/v1/items",
)
_NEGATIVES = (
    'password = os.environ["DB_PASSWORD"]',
    "def check_password(user, password): return bcrypt.checkpw(password, user.hash)",
    "Set OPENAI_API_KEY in your environment, e.g. export OPENAI_API_KEY=sk-...",
    'api_key = "YOUR_API_KEY_HERE"',
    "DATABASE_URL=postgres://user:${{DB_PASSWORD}}@localhost:5432/app",
    "The commit {sha} fixed the cache bug.",
    "Request id {uuid} failed with 502.",
    "sha256: {hex64}",
    "The password field must be at least 12 characters long.",
    "token_count = len(tokens)  # number of tokens in the prompt",
    "Use the secret manager; never hard-code the secret key.",
    "aws s3 cp s3://bucket/key.txt . --profile default",
    "Our AWS account id is 123456789012 and the region is eu-west-1.",
    "<input type='password' name='password' placeholder='Password'>",
    "connection: postgresql://localhost:5432/mydb",
    "![diagram](https://example.com/architecture.png)",
    "Basic auth uses base64(user:password), which is not encryption.",
)


def secret_samples(rounds: int = 6, seed: int = 5) -> list[SecretSample]:
    rng = random.Random(seed)
    Faker.seed(seed)
    fake = Faker()
    samples: list[SecretSample] = []
    for _ in range(rounds):
        for kind, value in _generators(rng, fake).items():
            place = rng.choice(_PLACES) if kind != "PRIVATE_KEY" else "key file:\n{value}\n"
            env = kind.replace("_LEGACY", "") + "_SECRET"
            samples.append(
                SecretSample(place.format(env=env, env_lower=env.lower(), value=value), value, kind)
            )
        user, password = fake.user_name(), fake.password(length=14)
        url = f"postgres://{user}:{password}@db-{rng.randint(1, 9)}.internal:5432/app"
        samples.append(SecretSample(f"DATABASE_URL={url}", password, "CONNECTION_PASSWORD"))
        aws_secret = _r(rng, 40, _ALNUM + "/+")
        samples.append(SecretSample(f"aws_secret_access_key = {aws_secret}", aws_secret, "AWS_SECRET_KEY"))
        for negative in _NEGATIVES:
            text = negative.format(
                sha=_r(rng, 40, "0123456789abcdef"),
                uuid=uuid.UUID(int=rng.getrandbits(128)),
                hex64=_r(rng, 64, "0123456789abcdef"),
            )
            samples.append(SecretSample(text, None, "negative"))
    return samples
