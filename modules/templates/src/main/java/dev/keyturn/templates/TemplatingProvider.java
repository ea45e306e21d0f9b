package dev.keyturn.templates;

import dev.keyturn.spi.ChangeSource;
import dev.keyturn.spi.MountRequest;
import dev.keyturn.spi.MountResponse;
import dev.keyturn.spi.SecretProvider;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A provider with templates: the request's template attributes ({@link Templates#PREFIX}) are taken
 * out before the provider sees it, and their outputs are added to its answer.
 */
public final class TemplatingProvider implements SecretProvider {
  private final SecretProvider provider;

  private TemplatingProvider(SecretProvider provider) {
    this.provider = provider;
  }

  /** {@code provider} with templates. */
  public static SecretProvider of(SecretProvider provider) {
    return provider instanceof TemplatingProvider ? provider : new TemplatingProvider(provider);
  }

  @Override
  public String name() {
    return provider.name();
  }

  @Override
  public MountResponse mount(MountRequest request) {
    Map<String, String> templates = Templates.defined(request.attributes());
    if (templates.isEmpty()) {
      return provider.mount(request);
    }
    return Templates.render(
        templates, provider.mount(withoutTemplates(request)), request.defaultMode());
  }

  @Override
  public void validate(MountRequest request) {
    Map<String, String> templates = Templates.defined(request.attributes());
    Templates.check(templates);
    provider.validate(templates.isEmpty() ? request : withoutTemplates(request));
  }

  /** The request the provider sees: without the template attributes. */
  private static MountRequest withoutTemplates(MountRequest request) {
    return new MountRequest(
        Templates.withoutTemplates(request.attributes()),
        request.secrets(),
        request.targetPath(),
        request.defaultMode(),
        request.currentVersions());
  }

  @Override
  public Optional<ChangeSource> changeSource() {
    return provider.changeSource();
  }

  @Override
  public Set<String> errorCodes() {
    return provider.errorCodes();
  }

  @Override
  public void close() {
    provider.close();
  }
}
