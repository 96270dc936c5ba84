"""The upstream cursor-sim's vocabulary: repo, team and first names, commit messages, review bodies and
the activity levels its generator draws from (contract sections 2.1-2.6)."""

OWNER = "acme-corp"
REPO_NAMES = (
    "payment-service",
    "web-app",
    "backend-service",
    "search-service",
    "mobile-app",
    "data-pipeline",
    "auth-service",
    "notification-service",
    "analytics-dashboard",
    "api-gateway",
    "billing-service",
    "inventory-service",
)
TEAMS = (
    "Backend",
    "Frontend",
    "Platform",
    "Data",
    "Mobile",
    "Infra",
    "Payments",
    "Search",
    "Growth",
    "Security",
    "Identity",
    "Billing",
)
FIRST_NAMES = (
    "Alice",
    "Bob",
    "Carol",
    "Dave",
    "Erin",
    "Frank",
    "Grace",
    "Heidi",
    "Ivan",
    "Judy",
    "Mallory",
    "Niaj",
    "Olivia",
    "Peggy",
    "Rupert",
    "Sybil",
    "Trent",
    "Uma",
    "Victor",
    "Zoë",
)
SENIORITIES = ("junior", "mid", "senior")
REGIONS = ("US", "EU", "APAC")
ACTIVITY = (("low", 0.75), ("medium", 1.0), ("high", 1.25))
BRANCH_PREFIXES = ("feature", "bugfix", "refactor", "chore")
TEMPLATED_MESSAGES = (
    "feat({{ component }}): implement {{ feature_name }}",
    "feat: add {{ feature_name }}",
    "fix({{ component }}): fix {{ issue }}",
    "fix: resolve {{ issue }}",
    "refactor({{ component }}): restructure code",
    "docs({{ component }}): document {{ feature_name }}",
)
PLAIN_MESSAGES = (
    "chore: update dependencies",
    "chore: maintenance tasks",
    "test: add unit tests",
    "ci: update pipeline",
)
REVIEW_BODIES = (
    "LGTM!",
    "Looks good to me",
    "Great work!",
    "What happens if X is null?",
    "Is this edge case handled?",
    "Consider renaming this variable",
    "Could we use a helper here?",
    "Could we extract this function?",
    "Consider using const here",
)
COMMITS_PER_DEV_PER_90_DAYS = 160
