/** The shortest password Vigil accepts. */
export const MIN_PASSWORD_LENGTH = 12;

/** Returns why a new password is unacceptable, or undefined when it is fine. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < MIN_PASSWORD_LENGTH)
    return `password must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > 1024) return 'password must be at most 1024 characters';
  return undefined;
}
