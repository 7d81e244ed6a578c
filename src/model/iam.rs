//! IAM roles as switches: which identity pulls a task's images from ECR, and whether the
//! application can call AWS (ECS-DG:task_execution_IAM_role.md, ECS-DG:instance_IAM_role.md,
//! ECS-DG:task-iam-roles.md; AWS-SEMANTICS.md §10 and §11).

/// A role and whether its policies allow pulling from private ECR (the managed policies
/// `AmazonEC2ContainerServiceforEC2Role` and `AmazonECSTaskExecutionRolePolicy` do).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Role {
    pub name: String,
    pub ecr_pull: bool,
}

/// Where an image lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registry {
    /// A private ECR repository (`<account>.dkr.ecr.<region>.amazonaws.com/...`): pulls need
    /// `ecr:GetAuthorizationToken` and the layer permissions.
    PrivateEcr,
    /// ECR Public, Docker Hub or any other public registry: anonymous pulls.
    Public,
}

impl Registry {
    /// The registry an image URI names.
    pub fn of(image: &str) -> Registry {
        let host = image.split('/').next().unwrap_or("");
        if image.contains('/') && host.contains(".dkr.ecr.") && host.contains(".amazonaws.com") {
            Registry::PrivateEcr
        } else {
            Registry::Public
        }
    }
}

/// Who pulls a private ECR image: the task execution role when the task definition has one;
/// on EC2 without it, the container instance role; on Fargate without it, nobody.
pub fn pull_identity<'a>(
    execution_role: Option<&'a Role>,
    instance_role: Option<&'a Role>,
    fargate: bool,
) -> Option<&'a Role> {
    match (execution_role, fargate) {
        (Some(r), _) => Some(r),
        (None, true) => None,
        (None, false) => instance_role,
    }
}

/// Why a pull of `image` fails for want of permission, in the agent's words, or None if it is
/// allowed (ECS-DG:task_cannot_pull_image.md: the `AccessDeniedException` case).
pub fn pull_denied(image: &str, registry: Registry, identity: Option<&Role>, fargate: bool) -> Option<String> {
    if registry == Registry::Public || identity.is_some_and(|r| r.ecr_pull) {
        return None;
    }
    Some(match identity {
        Some(role) => format!(
            "CannotPullContainerError: pull image manifest has been retried 1 time(s): AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/{}/session is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action ({image})",
            role.name
        ),
        None if fargate => format!(
            "CannotPullContainerError: the task has no task execution role to pull {image} from Amazon ECR; Fargate pulls private images with the execution role"
        ),
        None => format!(
            "CannotPullContainerError: no credentials to pull {image} from Amazon ECR: the container instance has no instance role and the task no execution role"
        ),
    })
}

/// The 5xx a request gets when the app needs AWS credentials and the task has no task role: the
/// SDK finds no credentials at the container credentials endpoint and the handler fails.
pub fn missing_credentials(calls_aws_apis: bool, task_role: Option<&Role>) -> bool {
    calls_aws_apis && task_role.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries_are_told_by_the_uri() {
        assert_eq!(Registry::of("123456789012.dkr.ecr.us-east-1.amazonaws.com/api:3"), Registry::PrivateEcr);
        assert_eq!(Registry::of("public.ecr.aws/nginx/nginx:1.27"), Registry::Public);
        assert_eq!(Registry::of("nginx:latest"), Registry::Public);
        assert_eq!(Registry::of("ghcr.io/org/app:1"), Registry::Public);
    }

    #[test]
    fn the_execution_role_pulls_when_present_and_the_instance_role_otherwise_on_ec2() {
        let instance = Role { name: "ecsInstanceRole".into(), ecr_pull: true };
        let weak = Role { name: "ecsTaskExecutionRole".into(), ecr_pull: false };
        let ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:3";
        // EC2, no execution role: the instance role pulls.
        let who = pull_identity(None, Some(&instance), false);
        assert!(pull_denied(ecr, Registry::of(ecr), who, false).is_none());
        // An execution role without ECR permission takes over, and fails.
        let who = pull_identity(Some(&weak), Some(&instance), false);
        let e = pull_denied(ecr, Registry::of(ecr), who, false).unwrap();
        assert!(e.starts_with("CannotPullContainerError") && e.contains("ecsTaskExecutionRole"), "{e}");
        // Fargate without an execution role cannot pull from ECR, but can pull public images.
        let who = pull_identity(None, Some(&instance), true);
        assert!(pull_denied(ecr, Registry::of(ecr), who, true).is_some());
        assert!(pull_denied("nginx:1", Registry::of("nginx:1"), who, true).is_none());
    }
}
