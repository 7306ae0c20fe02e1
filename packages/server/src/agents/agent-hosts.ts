/** Whether hosts are configured to have an agent, as a ticket enrollment asks. */
export interface AgentHostDirectory {
  /**
   * The host named `name` and whether its configuration gives it an agent (`has_agent`, set on
   * the host or inherited from the templates it imports); undefined when there is no such host,
   * or it is soft-deleted or disabled.
   */
  agentHost(name: string): Promise<{ id: string; hasAgent: boolean } | undefined>;
}
